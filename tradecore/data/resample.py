"""Resampling candles to a coarser timeframe with Kraken's conventions.

Epoch-aligned buckets (a day starts at 00:00 UTC), first open, max high, min low, last close, summed
volume and trades (null when any source candle lacks a count); empty buckets produce no row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradecore.errors import TradecoreError
from tradecore.timeframes import timeframe_ms

if TYPE_CHECKING:
    import polars as pl


def resample(candles: pl.DataFrame | pl.LazyFrame, source_timeframe: str, target_timeframe: str) -> pl.DataFrame:
    """``candles`` (sorted by ``time``) of ``source_timeframe`` aggregated into ``target_timeframe``."""
    import polars as pl

    src, dst = timeframe_ms(source_timeframe), timeframe_ms(target_timeframe)
    if dst < src or dst % src:
        raise TradecoreError(
            f"cannot resample {source_timeframe} into {target_timeframe}: the target must be a "
            f"whole multiple of {source_timeframe} (e.g. 1h -> 4h or 1d)"
        )
    lazy = candles.lazy()
    columns = lazy.collect_schema().names()
    ms = pl.col("time").dt.epoch("ms")
    aggs = [
        pl.col("open").first(),
        pl.col("high").max(),
        pl.col("low").min(),
        pl.col("close").last(),
        pl.col("volume").sum(),
    ]
    if "trades" in columns:
        aggs.append(
            pl.when(pl.col("trades").null_count() > 0)
            .then(None)
            .otherwise(pl.col("trades").sum())
            .cast(pl.Int64)
            .alias("trades")
        )
    if "origin" in columns:
        aggs.append(pl.col("origin").first())
    out = (
        lazy.with_columns((ms - ms % dst).alias("_bucket"))
        .group_by("_bucket", maintain_order=True)
        .agg(aggs)
        .sort("_bucket")
        .with_columns(pl.col("_bucket").cast(pl.Datetime("ms", "UTC")).alias("time"))
        .drop("_bucket")
    )
    order = [
        c
        for c in ("time", "open", "high", "low", "close", "volume", "trades", "origin")
        if c in out.collect_schema().names()
    ]
    return out.select(order).collect()
