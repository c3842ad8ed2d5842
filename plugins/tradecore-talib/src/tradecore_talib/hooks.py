"""Hook module of the ``talib`` plugin (kept light: the catalogue and models load inside the hook)."""

from __future__ import annotations

from tradecore.api import hookimpl


@hookimpl
def tradecore_indicators():
    from tradecore_talib.catalogue import load_catalogue
    from tradecore_talib.models import specs_for

    return specs_for(load_catalogue())
