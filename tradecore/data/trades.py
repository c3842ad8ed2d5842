"""Trades -> candles: vectorised, epoch-aligned buckets, Kraken's conventions; streaming in bounded memory.

Trades are never deduplicated by content (identical rows in one second are separate real trades);
a bucket's open is its first trade and close its last, in input order (Kraken's sub-second order).
Empty buckets produce no candle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradecore.timeframes import timeframe_ms

if TYPE_CHECKING:
    import numpy as np
    import polars as pl


def candles_from_arrays(time_ms: np.ndarray, price: np.ndarray, volume: np.ndarray, step: int) -> pl.DataFrame:
    """Epoch-aligned candles (``time`` as Int64 epoch ms) from trades sorted by time, in trade order.

    numpy's ``reduceat`` sums each bucket in one fixed order, so the same trades always give the same
    bytes (a threaded group-by may add floats in a different order from run to run).
    """
    import numpy as np
    import polars as pl

    n = time_ms.size
    bucket = time_ms - time_ms % step
    starts = np.flatnonzero(np.concatenate(([True], bucket[1:] != bucket[:-1]))) if n else np.empty(0, np.int64)
    ends = np.append(starts[1:], n) - 1 if n else starts
    return pl.DataFrame(
        {
            "time": bucket[starts].astype(np.int64),
            "open": price[starts],
            "high": np.maximum.reduceat(price, starts) if n else price[:0],
            "low": np.minimum.reduceat(price, starts) if n else price[:0],
            "close": price[ends],
            "volume": np.add.reduceat(volume, starts) if n else volume[:0],
            "trades": np.diff(np.append(starts, n)).astype(np.int64),
        }
    )


def trades_to_candles(trades: pl.DataFrame, timeframe: str, *, time_unit: str = "ms") -> pl.DataFrame:
    """Candles (time Datetime(ms, UTC), open, high, low, close, volume, trades) from trades with
    ``time`` (epoch ``time_unit``: ms or s), ``price`` and ``volume`` (or ``amount``), in trade order.
    """
    import numpy as np
    import polars as pl

    step = timeframe_ms(timeframe)
    scale = {"ms": 1, "s": 1000}[time_unit]
    raw = trades["time"].to_numpy()
    time_ms = np.floor(raw * scale).astype(np.int64) if raw.dtype.kind == "f" else raw.astype(np.int64) * scale
    price = trades["price"].cast(pl.Float64).to_numpy()
    volume = trades["volume" if "volume" in trades.columns else "amount"].cast(pl.Float64).to_numpy()
    if time_ms.size > 1 and (np.diff(time_ms) < 0).any():
        order = np.argsort(time_ms - time_ms % step, kind="stable")  # keeps trade order inside a bucket
        time_ms, price, volume = time_ms[order], price[order], volume[order]
    candles = candles_from_arrays(time_ms, price, volume, step)
    return candles.with_columns(pl.col("time").cast(pl.Datetime("ms", "UTC")))


class CandleBuilder:
    """Streaming trades -> candles: feed pages of trades (sorted by time), get closed candles back.

    Only the trades of the still-open bucket are held, so memory stays bounded whatever the range.
    """

    def __init__(self, timeframe: str, *, time_unit: str = "ms") -> None:
        self.timeframe = timeframe
        self.step = timeframe_ms(timeframe)
        self.time_unit = time_unit
        self._pending: pl.DataFrame | None = None

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
