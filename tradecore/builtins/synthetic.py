"""Built-in ``synthetic`` source: seeded OHLCV with regimes and volatility clustering (offline default)."""

from __future__ import annotations

from tradecore.hookspecs import hookimpl


@hookimpl
def tradecore_sources():
    from tradecore.data.synthetic import SyntheticParams
    from tradecore.specs import SourceSpec

    yield SourceSpec(
        name="synthetic",
        description="Seeded synthetic OHLCV: regime-switching drift, clustered volatility, volume",
        params=SyntheticParams,
        factory="tradecore.data.synthetic:SyntheticSource",
        meta={"exchange": "synthetic"},
    )
