"""Closed candles from the lake for a paper session: the history before it, and new candles as they arrive.

The lake holds only closed candles (``tradecore data fetch`` and ``tradecore data stream`` never store the
open one), so a candle in the lake is a candle a decision may be made on. A live session polls the newest
partition's Parquet footer (:meth:`Lake.last_time`, no data pages) and reads only when it has moved.
"""

from __future__ import annotations

import numpy as np

from tradecore.data.lake import Lake
from tradecore.interfaces import Candles
from tradecore.timeframes import timeframe_ms

_COLUMNS = ("open", "high", "low", "close", "volume")


class CandleBuffer:
    """The session's candles from its anchor, in growable contiguous arrays; :meth:`upto` is a view, no copy."""

    def __init__(self, timeframe: str) -> None:
        self.timeframe = timeframe
        self.size = 0
        self.time = np.empty(0, dtype=np.int64)
        self.values = {c: np.empty(0) for c in _COLUMNS}

    def __len__(self) -> int:
        return self.size

    def extend(self, candles: Candles) -> None:
        n = len(candles)
        if n == 0:
            return
        need = self.size + n
        if need > len(self.time):
            capacity = max(need, 2 * len(self.time), 1024)
            self.time = _grown(self.time, capacity, self.size)
            self.values = {c: _grown(v, capacity, self.size) for c, v in self.values.items()}
        self.time[self.size : need] = candles.time
        for c in _COLUMNS:
            self.values[c][self.size : need] = getattr(candles, c)
        self.size = need

    def upto(self, stop: int) -> Candles:
        """Candles ``0 .. stop-1`` (contiguous views)."""
        v = self.values
        return Candles(
            self.time[:stop], v["open"][:stop], v["high"][:stop], v["low"][:stop], v["close"][:stop],
            v["volume"][:stop], self.timeframe,
        )  # fmt: skip


def _grown(array: np.ndarray, capacity: int, used: int) -> np.ndarray:
    grown = np.empty(capacity, dtype=array.dtype)
    grown[:used] = array[:used]
    return grown


class LakeFeed:
    """One lake series (exchange, pair, timeframe) read for a paper session."""

    def __init__(self, lake: Lake, exchange: str, pair: str, timeframe: str) -> None:
        self.lake = lake
        self.key = (exchange, pair, timeframe)
        self.timeframe = timeframe
        self.step = timeframe_ms(timeframe)

    def read(self, start_ms: int | None, end_ms: int | None) -> Candles:
        """Stored candles with ``start_ms <= time < end_ms`` (either bound may be None)."""
        frame = self.lake.read(*self.key, start_ms, end_ms)
        return Candles.from_frame(frame, self.timeframe)

    def before(self, until_ms: int, rows: int) -> Candles:
        """At least ``rows`` stored candles before ``until_ms`` (fewer only when the lake holds fewer), newest last.
        Reads a time span that grows until it holds enough rows, so holes in the series cost a re-read at most."""
        first = self.lake.first_time(*self.key)
        span = max(rows, 1) * self.step * 2
        while True:
            start = until_ms - span
            candles = self.read(start, until_ms)
            if len(candles) >= rows or first is None or start <= first:
                return candles.slice(max(0, len(candles) - rows), len(candles))
            span *= 4

    def last_time(self) -> int | None:
        """Open time of the newest stored candle (from Parquet footers: cheap enough to poll)."""
        return self.lake.last_time(*self.key)
