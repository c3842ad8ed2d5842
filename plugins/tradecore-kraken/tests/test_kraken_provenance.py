"""A run that uses a kraken source records the ccxt version its data was fetched with."""

from __future__ import annotations

from importlib.metadata import version


def test_tradecore_provenance_reports_ccxt(tradecore_runtime, manifest_factory):
    import tradecore_kraken.plugin as plugin

    tradecore_runtime.register(plugin)
    resolved = tradecore_runtime.resolve(manifest_factory(source={"type": "kraken", "params": {"symbol": "BTC/USD"}}))
    provenance = tradecore_runtime.provenance(resolved)
    assert provenance[resolved.source.plugin]["packages"] == {"ccxt": version("ccxt")}
