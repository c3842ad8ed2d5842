"""Market data: the Parquet lake, jobs, coverage, gaps, QC, resampling, fetch plans.

import tradecore.data
lazy = tradecore.data.scan("kraken", "BTC/USD", "1h", start="2024-01-01", end="2024-02-01")
frame = lazy.collect()
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl


def scan(
    exchange: str, pair: str, timeframe: str, start: Any = None, end: Any = None, root: str | Path | None = None
) -> pl.LazyFrame:
    """Candles of one series in [start, end) as a Polars LazyFrame, from the lake at ``root``
    (default: ``TRADECORE_LAKE`` or the per-user data folder)."""
    from tradecore.data.lake import Lake
    from tradecore.paths import resolve_lake_root

    return Lake(resolve_lake_root(root)).scan(exchange, pair, timeframe, start, end)


__all__ = ["scan"]
