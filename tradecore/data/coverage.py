"""Coverage of the lake per series, answered from Parquet footers only (no data pages are read)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING, Any

from tradecore.data.lake import iso_ms
from tradecore.data.partition import MS_PER_DAY, SPAN_BREAK_BARS
from tradecore.timeframes import timeframe_ms

if TYPE_CHECKING:
    from tradecore.data.lake import Lake
    from tradecore.data.partition import PartitionInfo


@dataclass
class Coverage:
    exchange: str
    pair: str
    timeframe: str
    rows: int
    first_ms: int | None
    last_ms: int | None
    expected: int
    hole_slots: int  # empty slots between the first and last candle (no trades or missing: not classified)
    holes: int
    updated: float
    origins: dict[str, int] = field(default_factory=dict)
    ranges: list[tuple[int, int]] = field(default_factory=list)
    partitions: int = 0

    @property
    def percent(self) -> float:
        return 100.0 * self.rows / self.expected if self.expected else 0.0

    def as_dict(self) -> dict[str, Any]:
        from datetime import datetime

        return {
            "exchange": self.exchange,
            "pair": self.pair,
            "timeframe": self.timeframe,
            "rows": self.rows,
            "first": iso_ms(self.first_ms),
            "last": iso_ms(self.last_ms),
            "first_ms": self.first_ms,
            "last_ms": self.last_ms,
            "expected_slots": self.expected,
            "percent": round(self.percent, 3),
            "hole_slots": self.hole_slots,
            "holes": self.holes,
            "updated": datetime.fromtimestamp(self.updated, tz=UTC).isoformat(timespec="seconds"),
            "origins": self.origins,
            "partitions": self.partitions,
            "ranges": [{"start": iso_ms(a), "end": iso_ms(b), "start_ms": a, "end_ms": b} for a, b in self.ranges],
        }


def series_coverage(exchange: str, pair: str, timeframe: str, parts: list[PartitionInfo]) -> Coverage:
    """Combine the year summaries of one series; holes across year boundaries are counted too."""
    step = timeframe_ms(timeframe)
    parts = [p for p in parts if p.rows]
    rows = sum(p.rows for p in parts)
    first = parts[0].first_ms if parts else None
    last = parts[-1].last_ms if parts else None
    expected = (last - first) // step + 1 if parts else 0
    missing = sum(p.missing_slots for p in parts)
    holes = sum(p.holes for p in parts)
    origins: dict[str, int] = {}
    ranges: list[list[int]] = []
    brk = max(SPAN_BREAK_BARS * step, MS_PER_DAY)
    prev_last = None
    for p in parts:
        for name, count in p.origins.items():
            origins[name] = origins.get(name, 0) + count
        if prev_last is not None and p.first_ms - prev_last > step:
            holes += 1
            missing += (p.first_ms - prev_last) // step - 1
        spans = p.spans or [(p.first_ms, p.last_ms)]
        for a, b in spans:
            if ranges and a - ranges[-1][1] <= brk:
                ranges[-1][1] = b
            else:
                ranges.append([a, b])
        prev_last = p.last_ms
    updated = max((p.updated for p in parts), default=0.0)
    return Coverage(
        exchange,
        pair,
        timeframe,
        rows,
        first,
        last,
        expected,
        missing,
        holes,
        updated,
        origins,
        [(a, b) for a, b in ranges],
        len(parts),
    )


def lake_coverage(
    lake: Lake, exchange: str | None = None, pair: str | None = None, timeframe: str | None = None
) -> list[Coverage]:
    """Coverage of every stored series, optionally filtered by exchange, pair, timeframe."""
    out = []
    for key in lake.series():
        if (
            (exchange and key.exchange != exchange)
            or (pair and key.pair != pair)
            or (timeframe and key.timeframe != timeframe)
        ):
            continue
        out.append(
            series_coverage(
                key.exchange, key.pair, key.timeframe, lake.partitions(key.exchange, key.pair, key.timeframe)
            )
        )
    return out
