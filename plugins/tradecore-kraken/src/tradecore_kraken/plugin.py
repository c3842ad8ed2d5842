"""Hook implementations: the ``kraken`` and ``ccxt`` sources and the ``tradecore kraken`` commands.

Kept light: pydantic models and ccxt are imported inside the hooks and factories, never here.
"""

from __future__ import annotations

from tradecore.api import hookimpl


@hookimpl
def tradecore_sources():
    from tradecore.api import SourceSpec
    from tradecore_kraken.params import CcxtParams, KrakenParams

    yield SourceSpec(
        name="kraken",
        description="Kraken OHLCV via ccxt: OHLCVT dumps, REST OHLC (newest 720 bars), trades rebuilt into candles",
        params=KrakenParams,
        factory="tradecore_kraken.source:KrakenSource",
        meta={"exchange": "kraken", "methods": ["auto", "dump", "rest", "trades"]},
    )
    yield SourceSpec(
        name="ccxt",
        description="Any ccxt exchange with OHLCV history, paged by since (e.g. binance, bitstamp)",
        params=CcxtParams,
        factory="tradecore_kraken.ccxt_source:CcxtSource",
    )


@hookimpl
def tradecore_commands(cli):
    from tradecore_kraken.cli import kraken

    cli.add_command(kraken)


@hookimpl
def tradecore_provenance():
    """The ccxt version that fetched the data, from package metadata (importing ccxt is slow)."""
    from importlib.metadata import version

    return {"ccxt": version("ccxt")}  # a dependency of this distribution: always installed with it
