"""The manifest's section models (pydantic only, fast to import): :mod:`.env` (``env`` and ``split``),
:mod:`.data` (``data``) and :mod:`.sweep` (``sweep``).

They sit below both the manifest, which composes them, and the stages that read them (the env, sweep
planning), so neither side imports the other for them.
"""
