"""Built-in indicators."""

from __future__ import annotations

from tradecore.hookspecs import hookimpl


@hookimpl
def tradecore_indicators():
    return []
