"""One symbol's live candles: trades of the open buckets (and of a few just-closed ones) in, closed
candles out, built by the trades rebuild's kernel (:func:`tradecore.data.trades.candles_from_arrays`).

A bucket closes when a trade of a later bucket arrives, or when the stream loop's clock passes its end.
A bucket stays retained for ``retain`` buckets after it closed: a late or reordered trade for it rewrites
the candle (the lake upserts by open time, so nothing doubles); a trade for an older bucket cannot be
placed here and is handed back as a repair (the loop refetches that bucket). Duplicate trade ids count once.
Memory: the trades of the open and retained buckets only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tradecore.data.trades import candles_from_arrays

if TYPE_CHECKING:
    import polars as pl

#: arrays of one chunk: seq, time_ms, price, volume
Chunk = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@dataclass
class Closing:
    """What one call closed or changed: candles to write (Int64 ``time``) with the window they replace
    (every trade in it was seen, so its empty buckets had no trades), candles of retained buckets a late
    trade changed (``rewrites``), and buckets to refetch (``repairs``: open times of buckets a late trade
    reached after they left memory)."""

    candles: pl.DataFrame | None = None
    window: tuple[int, int] | None = None
    rewrites: pl.DataFrame | None = None
    repairs: list[int] = field(default_factory=list)
    duplicates: int = 0


def _merge(chunks: list[Chunk]) -> tuple[Chunk, int]:
    """Chunks in trade-id order with repeated ids dropped, and how many were dropped."""
    seq, t, p, v = (np.concatenate(c) for c in zip(*chunks, strict=True)) if len(chunks) > 1 else chunks[0]
    if seq.size > 1 and not bool(np.all(seq[1:] > seq[:-1])):
        order = np.argsort(seq, kind="stable")
        seq, t, p, v = seq[order], t[order], p[order], v[order]
        keep = np.concatenate(([True], seq[1:] != seq[:-1]))
        dropped = int(keep.size - keep.sum())
        if dropped:
            seq, t, p, v = seq[keep], t[keep], p[keep], v[keep]
        return (seq, t, p, v), dropped
    return (seq, t, p, v), 0


class PairCandles:
    """Live buckets of one symbol; see the module doc. ``restart(floor)`` begins a new connection."""

    def __init__(self, step_ms: int, retain: int = 2) -> None:
        self.step = step_ms
        self.retain = retain
        self.floor: int | None = None  # trades before it belong to the catch-up, not to this connection
        self.written_until: int | None = None  # every bucket before it is closed
        self.window_start: int | None = None  # start of the vouched stretch not yet written
        self.open: dict[int, list[Chunk]] = {}
        self.closed: dict[int, Chunk] = {}  # retained closed buckets, deduplicated
        self._current: int | None = None  # the newest open bucket (the fast path appends to it)

    def restart(self, floor: int) -> None:
        """Forget the old connection's buckets; this connection vouches for trades from ``floor`` on."""
        self.floor = self.written_until = self.window_start = floor
        self.open.clear()
        self.closed.clear()
        self._current = None

    def resume_ms(self) -> int | None:
        """Start of the first bucket the lake may not hold final yet (open, retained or never closed)."""
        starts = [*self.open, *self.closed]
        if self.written_until is not None:
            starts.append(self.written_until)
        return min(starts) if starts else None

    def add(self, seq: np.ndarray, time_ms: np.ndarray, price: np.ndarray, volume: np.ndarray) -> Closing:
        """Take one batch (one symbol, trade order); close the buckets a later trade of it closed."""
        step, floor = self.step, self.floor
        if floor is None or not seq.size:
            return Closing()
        first, last = int(time_ms[0]), int(time_ms[-1])
        if first >= floor and first - first % step == last - last % step == self._current:
            self.open[self._current].append((seq, time_ms, price, volume))  # the common case: one open bucket
            return Closing()
        out = Closing()
        keep = time_ms >= floor
        if not keep.all():
            seq, time_ms, price, volume = seq[keep], time_ms[keep], price[keep], volume[keep]
        buckets = time_ms - time_ms % step
        late: dict[int, list[Chunk]] = {}
        for bucket in np.unique(buckets).tolist():
            rows = buckets == bucket
            chunk = (seq[rows], time_ms[rows], price[rows], volume[rows])
            if bucket in self.open:
                self.open[bucket].append(chunk)
            elif bucket >= self.written_until:
                self.open[bucket] = [chunk]
            elif bucket in self.closed or bucket >= self.written_until - self.retain * step:
                late.setdefault(bucket, []).append(chunk)
            else:
                out.repairs.append(bucket)
            if bucket < self.written_until:  # the next window must not delete what this bucket gets
                self.window_start = max(self.window_start, bucket + step)
        if late:
            out.rewrites, out.duplicates = self._rewrite(late)
        newest = max(self.open) if self.open else None
        self._current = newest
        if newest is not None:
            closed = self._close([b for b in self.open if b < newest], until=newest)
            out.candles, out.window = closed.candles, closed.window
            out.duplicates += closed.duplicates
        return out

    def close_until(self, end_ms: int) -> Closing:
        """Close every bucket that ends by ``end_ms`` (the loop's clock); the stream vouches up to there."""
        if self.floor is None:
            return Closing()
        until = end_ms - end_ms % self.step
        if until <= self.written_until:
            return Closing()
        closing = self._close([b for b in self.open if b + self.step <= until], until=until)
        if self._current is not None and self._current not in self.open:
            self._current = None
        return closing

    def _close(self, buckets: list[int], until: int) -> Closing:
        """Candles of ``buckets`` (sorted out here); the vouched window runs up to ``until``."""
        self.written_until = max(self.written_until, until)
        if not buckets:
            self._forget(until)
            return Closing()
        start, self.window_start = self.window_start, self.written_until
        merged, dropped = [], 0
        for bucket in sorted(buckets):
            chunk, n = _merge(self.open.pop(bucket))
            self.closed[bucket] = chunk
            merged.append(chunk)
            dropped += n
        self._forget(until)
        return Closing(candles=_candles(merged, self.step), window=(start, self.written_until), duplicates=dropped)

    def _rewrite(self, late: dict[int, list[Chunk]]) -> tuple[pl.DataFrame | None, int]:
        merged, dropped = [], 0
        for bucket in sorted(late):
            have = [self.closed[bucket]] if bucket in self.closed else []
            before = int(have[0][0].size) if have else 0
            chunk, n = _merge([*have, *late[bucket]])
            self.closed[bucket] = chunk
            dropped += n
            if chunk[0].size > before:  # a new trade, not only repeats of stored ones
                merged.append(chunk)
        return (_candles(merged, self.step) if merged else None), dropped

    def _forget(self, until: int) -> None:
        horizon = until - self.retain * self.step
        for bucket in [b for b in self.closed if b < horizon]:
            del self.closed[bucket]


def _candles(chunks: list[Chunk], step: int) -> pl.DataFrame:
    """The kernel's candles over whole buckets' trades, in bucket then trade order."""
    _, t, p, v = (np.concatenate(c) for c in zip(*chunks, strict=True)) if len(chunks) > 1 else chunks[0]
    return candles_from_arrays(t, p, v, step)
