"""Trades -> candles: vectorised, epoch-aligned buckets, Kraken's conventions; streaming in bounded memory.

Trades are never deduplicated by content (identical rows in one second are separate real trades);
a bucket's open is its first trade and close its last, in input order (Kraken's sub-second order).
Empty buckets produce no candle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradecore.timeframes import timeframe_ms

if TYPE_CHECKING:
    import polars as pl


def trades_to_candles(trades: pl.DataFrame, timeframe: str, *, time_unit: str = "ms") -> pl.DataFrame:
    """Candles (time Datetime(ms, UTC), open, high, low, close, volume, trades) from trades with
    ``time`` (epoch ``time_unit``: ms or s), ``price`` and ``volume`` (or ``amount``), in trade order.
    """
    import polars as pl

    step = timeframe_ms(timeframe)
    volume = "volume" if "volume" in trades.columns else "amount"
    scale = {"ms": 1, "s": 1000}[time_unit]
    time_ms = pl.col("time").cast(pl.Int64) * scale if scale != 1 else pl.col("time").cast(pl.Int64)
    if trades.height and trades.schema["time"].is_float():
        time_ms = (pl.col("time") * scale).floor().cast(pl.Int64)
    bucketed = trades.lazy().select(
        (time_ms - time_ms % step).alias("bucket"),
        pl.col("price").cast(pl.Float64),
        pl.col(volume).cast(pl.Float64).alias("volume"),
    )
    candles = (
        bucketed.group_by("bucket", maintain_order=True)
        .agg(
            pl.col("price").first().alias("open"),
            pl.col("price").max().alias("high"),
            pl.col("price").min().alias("low"),
            pl.col("price").last().alias("close"),
            pl.col("volume").sum().alias("volume"),
            pl.len().cast(pl.Int64).alias("trades"),
        )
        .sort("bucket")
        .select(
            pl.col("bucket").cast(pl.Datetime("ms", "UTC")).alias("time"),
            "open",
            "high",
            "low",
            "close",
            "volume",
            "trades",
        )
    )
    return candles.collect()


class CandleBuilder:
    """Streaming trades -> candles: feed pages of trades (sorted by time), get closed candles back.

    Only the trades of the still-open bucket are held, so memory stays bounded whatever the range.
    """

    def __init__(self, timeframe: str, *, time_unit: str = "ms") -> None:
        self.timeframe = timeframe
        self.step = timeframe_ms(timeframe)
        self.time_unit = time_unit
        self._pending: pl.DataFrame | None = None

    @property
    def pending_rows(self) -> int:
        return 0 if self._pending is None else self._pending.height

    def add(self, trades: pl.DataFrame) -> pl.DataFrame:
        """Candles of every bucket that the trades so far have closed (a later trade started a newer one)."""
        import polars as pl

        frame = trades if self._pending is None else pl.concat([self._pending, trades], how="vertical_relaxed")
        if frame.height == 0:
            return trades_to_candles(frame, self.timeframe, time_unit=self.time_unit)
        scale = 1000 if self.time_unit == "s" else 1
        last_bucket = (int(frame["time"][-1] * scale) // self.step) * self.step
        cut = pl.lit(last_bucket / scale) if self.time_unit == "s" else pl.lit(last_bucket)
        open_mask = pl.col("time") >= cut
        self._pending = frame.filter(open_mask)
        return trades_to_candles(frame.filter(~open_mask), self.timeframe, time_unit=self.time_unit)

    def flush(self) -> pl.DataFrame:
        """Candles of the last bucket (call when the range is known to be complete)."""
        import polars as pl

        frame = (
            self._pending
            if self._pending is not None
            else pl.DataFrame(schema={"time": pl.Int64, "price": pl.Float64, "volume": pl.Float64})
        )
        self._pending = None
        return trades_to_candles(frame, self.timeframe, time_unit=self.time_unit)
