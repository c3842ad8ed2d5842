"""``tradecore serve``: the web service over the lake, the job store and the run folders the CLI uses.

Imported only by ``tradecore serve`` and by code that builds the app (:func:`tradecore.service.app.create_app`),
so FastAPI never loads for other commands.
"""
