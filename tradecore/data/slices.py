"""Dataset slices: contiguous windows of a series that meet quality thresholds, as a small JSON manifest.

A slice ends at any hole longer than ``max_gap_bars`` or classified "missing" (when asked); it is kept
when it has at least ``min_bars`` candles and ``min_coverage`` of its slots filled. The environment can
train on the slices instead of guessing which stretches of a sparse series are usable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from tradecore.data.columns import SeriesColumns, frame_columns
from tradecore.data.exchange_facts import ExchangeFacts
from tradecore.data.gaps import classify, find_gaps
from tradecore.data.lake import iso_ms
from tradecore.timeframes import timeframe_ms

if TYPE_CHECKING:
    import polars as pl

SLICES_KIND = "tradecore.slices"


@dataclass(frozen=True)
class SliceRules:
    min_bars: int = 1000
    max_gap_bars: int = 60
    min_coverage: float = 0.95
    split_on_missing: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "min_bars": self.min_bars,
            "max_gap_bars": self.max_gap_bars,
            "min_coverage": self.min_coverage,
            "split_on_missing": self.split_on_missing,
        }


def find_slices(
    frame: pl.DataFrame, timeframe: str, rules: SliceRules, facts: ExchangeFacts | None = None
) -> list[dict[str, Any]]:
    """Slices of a sorted candle frame (``time``, optional ``trades``/``origin``); ``facts`` describe the
    exchange for the "missing" vs "no trades" call (default: a generic one)."""
    return column_slices(frame_columns(frame), timeframe, rules, facts)


def column_slices(
    columns: SeriesColumns, timeframe: str, rules: SliceRules, facts: ExchangeFacts | None = None
) -> list[dict[str, Any]]:
    """:func:`find_slices` of columns already read (see :mod:`tradecore.data.columns`)."""
    step = timeframe_ms(timeframe)
    times = columns.times
    if not len(times):
        return []
    idx, _, slots = find_gaps(times, step)
    cut = slots > rules.max_gap_bars
    if rules.split_on_missing and len(idx):
        facts = facts or ExchangeFacts()
        _, no_trades, _ = classify(
            times, columns.trades, columns.origins, step, facts, holes=(idx, slots), written=columns.written
        )
        cut |= ~no_trades
    cut_rows = idx[cut]
    starts = np.concatenate([[0], cut_rows + 1])
    ends = np.concatenate([cut_rows, [len(times) - 1]])
    gap_after = np.zeros(len(times), dtype=np.int64)
    gap_after[idx] = slots
    out = []
    for a, b in zip(starts, ends, strict=True):
        rows = int(b - a + 1)
        expected = int((times[b] - times[a]) // step + 1)
        coverage = rows / expected
        if rows < rules.min_bars or coverage < rules.min_coverage:
            continue
        largest = int(gap_after[a:b].max()) if b > a else 0
        out.append(
            {
                "start": iso_ms(int(times[a])),
                "end": iso_ms(int(times[b]) + step),
                "start_ms": int(times[a]),
                "end_ms": int(times[b]) + step,
                "rows": rows,
                "expected": expected,
                "coverage": round(coverage, 6),
                "largest_gap_bars": largest,
            }
        )
    return out


def slices_manifest(
    columns: SeriesColumns,
    exchange: str,
    pair: str,
    timeframe: str,
    rules: SliceRules,
    lake_root: str | None = None,
    facts: ExchangeFacts | None = None,
) -> dict[str, Any]:
    """The JSON document ``tradecore data slices`` writes."""
    slices = column_slices(columns, timeframe, rules, facts)
    return {
        "kind": SLICES_KIND,
        "version": 1,
        "exchange": exchange,
        "pair": pair,
        "timeframe": timeframe,
        "lake": lake_root,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "rules": rules.as_dict(),
        "rows": len(columns.times),
        "slices": slices,
        "total_rows": sum(s["rows"] for s in slices),
    }
