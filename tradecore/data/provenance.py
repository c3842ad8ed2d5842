"""Where stored candles came from: each row's origin (as small integer codes) and the time ranges each
origin's writes covered (from the partition footers).

A gap between two rows of one complete-history origin (a dump, trades rebuilt into candles) means
nobody traded, but only when both rows came in through writes that covered the gap: two quarterly dumps
imported months apart leave a never-fetched hole between rows of the same origin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import polars as pl

    from tradecore.data.partition import PartitionInfo

#: most covered ranges kept per origin in one partition footer (the shortest go first)
MAX_RANGES = 256


class RowOrigins:
    """Per-row origins as small integer codes (never one string per row); ``names_at(rows)`` gives names."""

    def __init__(self, codes: np.ndarray, names: list[str]) -> None:
        self.codes = codes
        self.names = np.array(names, dtype=object)

    @classmethod
    def constant(cls, name: str, rows: int) -> RowOrigins:
        """One origin for every row: a broadcast view, no per-row memory."""
        return cls(np.broadcast_to(np.uint16(0), (rows,)), [name])

    @classmethod
    def of_column(cls, column: pl.Series) -> RowOrigins:
        """From an ``origin`` string column, dictionary-encoded once."""
        import pyarrow as pa

        encoded = column.to_arrow().cast(pa.string()).dictionary_encode()  # Series.to_arrow: one Array
        return cls(encoded.indices.to_numpy(zero_copy_only=False), encoded.dictionary.to_pylist())

    def names_at(self, rows: np.ndarray) -> np.ndarray:
        return self.names[self.codes[rows]]


def merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Half-open ranges merged where they overlap or touch, sorted; at most :data:`MAX_RANGES` (longest kept)."""
    merged: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    if len(merged) > MAX_RANGES:
        merged = sorted(sorted(merged, key=lambda r: r[0] - r[1])[:MAX_RANGES])
    return [(lo, hi) for lo, hi in merged]


def add_written(
    written: dict[str, list[tuple[int, int]]], origin: str, lo: int, hi: int
) -> dict[str, list[tuple[int, int]]]:
    """``written`` with [lo, hi) added to ``origin``'s covered ranges."""
    return {**written, origin: merge_ranges([*written.get(origin, []), (lo, hi)])}


class WrittenRanges:
    """Per origin, the merged ranges its writes covered, over the partitions of one series."""

    def __init__(self, by_origin: dict[str, list[tuple[int, int]]]) -> None:
        self.by_origin = {
            name: np.array(merge_ranges(ranges), dtype=np.int64).reshape(-1, 2) for name, ranges in by_origin.items()
        }

    @classmethod
    def of_partitions(cls, parts: list[PartitionInfo]) -> WrittenRanges | None:
        """From the footers; None when any footer predates the record (then the rows' origins alone decide)."""
        if any(p.written is None for p in parts):
            return None
        combined: dict[str, list[tuple[int, int]]] = {}
        for part in parts:
            for name, ranges in (part.written or {}).items():
                combined.setdefault(name, []).extend(ranges)
        return cls(combined)

    def covers(self, origins: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Per gap [starts[i], ends[i]): whether one write of ``origins[i]`` covered all of it."""
        out = np.zeros(len(starts), bool)
        for name, ranges in self.by_origin.items():
            mine = np.flatnonzero(origins == name)
            if not mine.size or not len(ranges):
                continue
            j = np.searchsorted(ranges[:, 0], starts[mine], side="right") - 1
            inside = j >= 0
            inside[inside] = ranges[j[inside], 1] >= ends[mine][inside]
            out[mine] = inside
        return out
