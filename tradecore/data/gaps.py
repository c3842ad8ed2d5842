"""Gap reports: missing candle slots as ranges, classified "no_trades" vs "missing", with how to fill them.

Evidence for "no trades": the local trading rate around the hole (trades per slot from neighbouring
candles, or the fill rate when counts are unknown) makes an empty stretch of that length plausible
(Poisson), and/or both neighbours come from a source that is complete over its range (dumps, trades
rebuilt into candles, REST windows of an exchange that emits no candle for an interval without trades).
What the exchange can deliver (:class:`~tradecore.data.exchange_facts.ExchangeFacts`) comes from its source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tradecore.data.exchange_facts import ExchangeFacts
from tradecore.data.lake import iso_ms
from tradecore.timeframes import timeframe_ms

if TYPE_CHECKING:
    import polars as pl

    from tradecore.data.lake import Lake

#: neighbouring candles on each side used to estimate the local trading rate
NEIGHBOURS = 60
#: P(no trade over the hole) at or above this -> "no_trades" on rate evidence alone
PLAUSIBLE = 1e-2
#: with a complete source on both sides, holes down to this probability still count as "no_trades"
PLAUSIBLE_COMPLETE = 1e-9


@dataclass
class Gap:
    """Missing slots [start_ms, end_ms): ``slots`` candles absent."""

    start_ms: int
    end_ms: int
    slots: int
    kind: str = "missing"  # "no_trades" | "missing"
    p_empty: float | None = None
    evidence: list[str] = field(default_factory=list)
    fill: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "start": iso_ms(self.start_ms),
            "end": iso_ms(self.end_ms),
            "slots": self.slots,
            "kind": self.kind,
            "p_empty": self.p_empty,
            "evidence": self.evidence,
            "fill": self.fill,
        }


@dataclass
class GapReport:
    exchange: str
    pair: str
    timeframe: str
    rows: int
    first_ms: int | None
    last_ms: int | None
    gaps: list[Gap]

    @property
    def missing_slots(self) -> int:
        return sum(g.slots for g in self.gaps)

    def counts(self) -> dict[str, int]:
        """``gaps``/``missing_slots`` in total, then per kind: ``no_trades_gaps``/``no_trades_slots`` and
        ``missing_gaps``/``missing_gap_slots`` (holes we failed to fetch)."""
        no_trades = [g for g in self.gaps if g.kind == "no_trades"]
        missing = [g for g in self.gaps if g.kind == "missing"]
        return {
            "gaps": len(self.gaps),
            "missing_slots": self.missing_slots,
            "no_trades_gaps": len(no_trades),
            "no_trades_slots": sum(g.slots for g in no_trades),
            "missing_gaps": len(missing),
            "missing_gap_slots": sum(g.slots for g in missing),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "exchange": self.exchange,
            "pair": self.pair,
            "timeframe": self.timeframe,
            "rows": self.rows,
            "first": iso_ms(self.first_ms),
            "last": iso_ms(self.last_ms),
            **self.counts(),
            "gaps": [g.as_dict() for g in self.gaps],
        }


def find_gaps(times_ms: np.ndarray, step_ms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices ``i`` where a hole follows row ``i``, each hole's first missing slot, and its slot count."""
    found = []
    for lo in range(0, len(times_ms) - 1, _BLOCK):  # cache-sized blocks: no full-length diff array
        block = times_ms[lo : lo + _BLOCK + 1]
        hit = np.flatnonzero((block[1:] - block[:-1]) > step_ms)
        if hit.size:
            found.append(hit + lo)
    idx = np.concatenate(found) if found else np.empty(0, np.int64)
    return idx, times_ms[idx] + step_ms, (times_ms[idx + 1] - times_ms[idx]) // step_ms - 1


#: rows per block when scanning open times for holes (fits in L2 cache)
_BLOCK = 1 << 18


def classify(
    times_ms: np.ndarray,
    trades: np.ndarray | pl.Series | None,
    origins: np.ndarray | None,
    step_ms: int,
    facts: ExchangeFacts,
    *,
    holes: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[list[str]]]:
    """Per hole: p_empty, whether it is "no_trades", evidence lines. ``holes`` (the ``idx`` and ``slots`` of
    :func:`find_gaps`) saves a second pass over the times when the caller has them."""
    if holes is None:
        idx, _, slots = find_gaps(times_ms, step_ms)
    else:
        idx, slots = holes
    n = len(times_ms)
    if not len(idx):
        return np.empty(0), np.empty(0, bool), []
    lo = np.maximum(0, idx - NEIGHBOURS + 1)
    hi = np.minimum(n - 1, idx + NEIGHBOURS)
    span_slots = (times_ms[hi] - times_ms[lo]) // step_ms + 1 - slots  # the hole itself excluded
    rows = hi - lo + 1
    use_counts = trades is not None
    if use_counts:
        rate = _window_sums(trades, lo, rows) / np.maximum(span_slots, 1)  # trades per slot nearby
        log_p = -rate * slots
    else:
        fill = np.clip(rows / np.maximum(span_slots, 1), 0, 1)
        with np.errstate(divide="ignore"):
            log_p = np.where(fill < 1, slots * np.log1p(-np.minimum(fill, 1 - 1e-12)), -np.inf)
    p_empty = np.exp(log_p)
    complete = np.zeros(len(idx), bool)
    if origins is not None:  # the evidence names both neighbours' origins
        if isinstance(origins, str):
            before = after = np.full(len(idx), origins, dtype=object)
        elif hasattr(origins, "gather"):  # a Polars Series: take only the rows around holes
            before, after = origins.gather(idx).to_numpy(), origins.gather(idx + 1).to_numpy()
        else:
            before, after = origins[idx], origins[idx + 1]
        if facts.skips_empty_candles:
            complete = (before == after) & np.isin(before, list(facts.complete_origins))
    no_trades = (p_empty >= PLAUSIBLE) | (complete & (p_empty >= PLAUSIBLE_COMPLETE))
    if not facts.skips_empty_candles:
        no_trades[:] = False  # a source that emits every slot has no legitimate holes
    evidence = []
    slot_list, p_list = slots.tolist(), p_empty.tolist()
    if use_counts:
        first = [
            f"{r:.3g} trades/slot nearby; P(no trade in {s} slots) = {p:.1e}"
            for r, s, p in zip(rate.tolist(), slot_list, p_list, strict=True)
        ]
    else:
        first = [
            f"{r / max(sp, 1):.0%} of nearby slots filled; P(empty run of {s}) = {p:.1e}"
            for r, sp, s, p in zip(rows.tolist(), span_slots.tolist(), slot_list, p_list, strict=True)
        ]
    if origins is not None:
        for i, line in enumerate(first):
            tail = " (complete source)" if complete[i] else ""
            evidence.append([line, f"neighbours from {before[i]} / {after[i]}{tail}"])
    else:
        evidence = [[line] for line in first]
    return p_empty, no_trades, evidence


def _window_sums(values: np.ndarray | pl.Series, lo: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Sums of ``values[lo[i] : lo[i] + lengths[i]]`` touching only the window rows (no full cumsum)."""
    starts = np.cumsum(lengths) - lengths
    flat = np.repeat(lo - starts, lengths) + np.arange(int(lengths.sum()))
    window = values.gather(flat).to_numpy() if hasattr(values, "gather") else values[flat]
    return np.add.reduceat(window.astype(np.float64), starts)


def gap_report(
    frame: pl.DataFrame,
    exchange: str,
    pair: str,
    timeframe: str,
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    now_ms: int | None = None,
    fill: bool = True,
    origin: str | RowOrigins | None = None,
    facts: ExchangeFacts | None = None,
) -> GapReport:
    """Gaps of a sorted candle frame (``time``, optional ``trades``, ``origin``); ``start_ms``/``end_ms``
    add the never-fetched head and tail of a requested range as "missing". ``origin`` gives the rows'
    origins instead of an ``origin`` column: one for all, or per row (:class:`RowOrigins`). ``facts``
    describe the exchange (default: a generic one, see :class:`ExchangeFacts`)."""
    import polars as pl

    facts = facts or ExchangeFacts()
    step = timeframe_ms(timeframe)
    column = frame["time"]
    if isinstance(column.dtype, pl.Datetime):  # stored as epoch ms already: a view, no conversion pass
        column = column.to_physical() if column.dtype.time_unit == "ms" else column.dt.epoch("ms")
    times = column.to_numpy()
    trades = None
    if "trades" in frame.columns and frame.height and frame["trades"].null_count() == 0:
        trades = frame["trades"]  # a Series: only the rows around holes are gathered, never the whole column
    origins: Any = origin  # one origin for the whole range (from the partition footers)
    if origin is None and "origin" in frame.columns and frame.height:
        origins = frame["origin"]
        if origins.n_unique() == 1:
            origins = origins[0]
    idx, starts, slots = find_gaps(times, step)
    p_empty, no_trades, evidence = classify(times, trades, origins, step, facts, holes=(idx, slots))
    rate_all = None
    if trades is not None and len(times):
        rate_all = float(trades.sum()) / max(1, (times[-1] - times[0]) // step + 1)
    head, tail = _edges(times, step, start_ms, end_ms)
    gaps = head + [
        Gap(int(start), int(start + n * step), int(n), "no_trades" if empty else "missing", float(p), lines)
        for start, n, empty, p, lines in zip(
            starts.tolist(), slots.tolist(), no_trades.tolist(), p_empty.tolist(), evidence, strict=True
        )
    ]
    gaps += tail
    if fill:
        for gap in gaps:
            if gap.kind == "missing":
                gap.fill = facts.fill_options(
                    pair, timeframe, gap.start_ms, gap.end_ms, now_ms=now_ms, trades_per_slot=rate_all
                )
    return GapReport(
        exchange,
        pair,
        timeframe,
        len(times),
        int(times[0]) if len(times) else None,
        int(times[-1]) if len(times) else None,
        gaps,
    )


def _edges(times: np.ndarray, step: int, start_ms: int | None, end_ms: int | None) -> tuple[list[Gap], list[Gap]]:
    """The never-fetched head [start_ms, first candle) and tail (last candle, end_ms) of a requested range."""
    head: list[Gap] = []
    if start_ms is not None and (not len(times) or times[0] > start_ms):
        head_end = int(times[0]) if len(times) else (end_ms if end_ms is not None else start_ms)
        first = start_ms + (-start_ms) % step
        if head_end > first:
            head.append(
                Gap(first, head_end, (head_end - first) // step, "missing", None, ["before the first stored candle"])
            )
    tail: list[Gap] = []
    if end_ms is not None and len(times) and times[-1] + step < end_ms:
        tail_start = int(times[-1]) + step
        tail_end = end_ms - end_ms % step if end_ms % step else end_ms
        if tail_end > tail_start:
            tail.append(
                Gap(
                    tail_start,
                    tail_end,
                    (tail_end - tail_start) // step,
                    "missing",
                    None,
                    ["after the last stored candle"],
                )
            )
    return head, tail


def lake_gap_report(
    lake: Lake,
    exchange: str,
    pair: str,
    timeframe: str,
    start: Any = None,
    end: Any = None,
    *,
    now_ms: int | None = None,
    facts: ExchangeFacts | None = None,
) -> GapReport:
    """Gap report straight from the lake: reads time and trades; origins come from the partition footers,
    and only partitions that mix origins have their origin column read."""

    from tradecore.data.lake import to_ms

    parts = lake.partitions(exchange, pair, timeframe)
    mixed = any(len(p.origins) > 1 for p in parts) or len({o for p in parts for o in p.origins}) > 1
    frame = lake.scan(exchange, pair, timeframe, start, end).select("time", "trades").collect()
    frame = frame.with_columns(frame["time"].rechunk())  # one copy here; every later to_numpy is a view
    origin: Any = next(iter(parts[0].origins)) if not mixed and parts and parts[0].origins else None
    if mixed:
        origin = _row_origins(frame["time"].to_physical().to_numpy(), parts)
        if origin is None:  # a writer replaced a partition between the reads: read all in one consistent query
            frame = lake.scan(exchange, pair, timeframe, start, end).select("time", "trades", "origin").collect()
    return gap_report(
        frame,
        exchange,
        pair,
        timeframe,
        start_ms=to_ms(start),
        end_ms=to_ms(end),
        now_ms=now_ms,
        origin=origin,
        facts=facts,
    )


class RowOrigins:
    """Per-row origins as small integer codes (never one string per row); ``origins[rows]`` gives names."""

    def __init__(self, codes: np.ndarray, names: list[str]) -> None:
        self.codes = codes
        self.names = np.array(names, dtype=object)

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        return self.names[self.codes[rows]]


def _row_origins(times: np.ndarray, parts: list) -> RowOrigins | None:
    """Origins of rows read from ``parts`` (one year each): a single-origin year takes its origin from the
    footer; only a year that mixes origins has its origin column read (in the rows' time range)."""

    from tradecore.data.lake import year_bounds_ms

    names: list[str] = []
    codes = np.zeros(len(times), np.uint16)
    for part in parts:
        lo, hi = year_bounds_ms(part.year)
        a, b = (int(i) for i in np.searchsorted(times, [lo, hi]))
        if b <= a:
            continue
        if len(part.origins) == 1:
            name = next(iter(part.origins))
            if name not in names:
                names.append(name)
            codes[a:b] = names.index(name)
            continue
        stored = _stored_origins(part.path, int(times[a]), b - a)
        if stored is None:
            return None
        values, rows = stored
        table = np.empty(len(values), np.uint16)
        for i, name in enumerate(values):
            if name not in names:
                names.append(name)
            table[i] = names.index(name)
        codes[a:b] = table[rows]
    return RowOrigins(codes, names)


def _stored_origins(path: Any, first_ms: int, count: int) -> tuple[list[str], np.ndarray] | None:
    """The origin column of ``count`` stored rows from open time ``first_ms`` on, as (names, codes) straight
    from the Parquet dictionary pages (no string per row); None if the file no longer holds those rows."""
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path, read_dictionary=["origin"])
    whole = file.metadata.num_rows == count
    table = file.read(columns=["origin"] if whole else ["time", "origin"])
    offset = 0
    if not whole:
        stored_ms = table.column("time").cast("int64").to_numpy()
        offset = int(np.searchsorted(stored_ms, first_ms))
        if offset + count > len(stored_ms) or stored_ms[offset] != first_ms:
            return None
    column = table.column("origin").slice(offset, count).unify_dictionaries()
    if column.null_count or not column.num_chunks:
        return None
    names = column.chunk(0).dictionary.to_pylist()
    codes = np.concatenate([chunk.indices.to_numpy(zero_copy_only=False) for chunk in column.chunks])
    return names, codes


def summary_line(report: GapReport) -> str:
    c = report.counts()
    return (
        f"{report.exchange} {report.pair} {report.timeframe}: {report.rows:,} candles, {c['gaps']:,} gaps "
        f"({c['missing_slots']:,} slots): {c['no_trades_gaps']:,} no trades ({c['no_trades_slots']:,} slots), "
        f"{c['missing_gaps']:,} missing ({c['missing_gap_slots']:,} slots)"
    )
