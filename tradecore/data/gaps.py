"""Gap reports: missing candle slots as ranges, classified "no_trades" vs "missing", with how to fill them.

Evidence for "no trades": both neighbours come from one write of an origin that is complete history
(the exchange facts name them: dumps, trades rebuilt into candles, REST windows of an exchange that emits
no candle for an interval without trades), so an empty slot between them means nobody traded; or the
local trading rate around the hole (trades per slot from neighbouring candles, or the fill rate when
counts are unknown) makes an empty stretch of that length plausible (Poisson).
What the exchange can deliver (:class:`~tradecore.data.exchange_facts.ExchangeFacts`) comes from its source.

Each hole also says what a repair can do about it (``repair``, with a one-line ``reason``): ``no-trades``
(nothing to fetch: proven by a recorded empty query of the exchange's history, by complete-history
neighbours, or likely from the trading rate), ``unfillable`` (no way the exchange offers reaches it, or a
repair's method could not) or ``fillable`` (``tradecore data repair`` fetches it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tradecore.data.columns import SeriesColumns, frame_columns, lake_columns
from tradecore.data.exchange_facts import ExchangeFacts
from tradecore.data.hole_verdicts import Verdicts
from tradecore.data.lake import iso_ms
from tradecore.data.provenance import RowOrigins, WrittenRanges
from tradecore.timeframes import timeframe_ms

if TYPE_CHECKING:
    import polars as pl

    from tradecore.data.lake import Lake

#: neighbouring candles on each side used to estimate the local trading rate
NEIGHBOURS = 60
#: P(no trade over the hole) at or above this -> "no_trades" on rate evidence alone
PLAUSIBLE = 1e-2


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
    repair: str | None = None  # "no-trades" | "unfillable" | "fillable" (None: not assessed)
    reason: str | None = None

    @property
    def label(self) -> str:
        """``repair`` and why, as one table cell: "no-trades (verified|proven|likely)", "unfillable: why", or
        "fillable" (the fill column says how)."""
        if self.repair == "unfillable":
            return f"unfillable: {self.reason}"
        if self.repair == "no-trades" and self.reason:
            return f"no-trades ({self.reason.partition(':')[0]})"
        return self.repair or self.kind

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
            "repair": self.repair,
            "reason": self.reason,
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
    #: whether each missing hole was judged fillable or not (``fill``): adds those counts
    repairs_judged: bool = False

    def counts(self) -> dict[str, int]:
        """Each key names what it counts: ``gap_count`` gaps of ``gap_slots`` empty slots in all, of which
        ``no_trades_gaps``/``no_trades_slots`` nobody traded in and ``missing_gaps``/``missing_slots`` are
        holes in the data (to fill)."""
        no_trades = [g for g in self.gaps if g.kind == "no_trades"]
        missing = [g for g in self.gaps if g.kind == "missing"]
        return {
            "gap_count": len(self.gaps),
            "gap_slots": sum(g.slots for g in self.gaps),
            "no_trades_gaps": len(no_trades),
            "no_trades_slots": sum(g.slots for g in no_trades),
            "missing_gaps": len(missing),
            "missing_slots": sum(g.slots for g in missing),
        }

    def repair_counts(self) -> dict[str, int]:
        """Of the missing holes, ``fillable_*`` a repair can fetch and ``unfillable_*`` it cannot (empty when
        the report did not judge them)."""
        if not self.repairs_judged:
            return {}
        counts = {}
        for name in ("fillable", "unfillable"):
            counts[f"{name}_gaps"] = sum(1 for g in self.gaps if g.kind == "missing" and g.repair == name)
            counts[f"{name}_slots"] = sum(g.slots for g in self.gaps if g.kind == "missing" and g.repair == name)
        return counts

    def as_dict(self) -> dict[str, Any]:
        return {
            "exchange": self.exchange,
            "pair": self.pair,
            "timeframe": self.timeframe,
            "rows": self.rows,
            "first": iso_ms(self.first_ms),
            "last": iso_ms(self.last_ms),
            **self.counts(),
            **self.repair_counts(),
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
    trades: np.ndarray | None,
    origins: RowOrigins | None,
    step_ms: int,
    facts: ExchangeFacts,
    *,
    holes: tuple[np.ndarray, np.ndarray] | None = None,
    written: WrittenRanges | None = None,
) -> tuple[np.ndarray, np.ndarray, list[list[str]]]:
    """Per hole: p_empty, whether it is "no_trades", evidence lines. ``holes`` (the ``idx`` and ``slots`` of
    :func:`find_gaps`) saves a second pass over the times when the caller has them.

    A hole between two rows of one origin that ``facts`` call complete-history is "no_trades" whatever the
    rate says, when ``written`` shows one write of that origin covered it (``written`` None: rows of one
    origin count as one write). Otherwise the local rate decides."""
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
    if trades is not None:
        rate = _window_sums(trades, lo, rows) / np.maximum(span_slots, 1)  # trades per slot nearby
        log_p = -rate * slots
    else:
        fill = np.clip(rows / np.maximum(span_slots, 1), 0, 1)
        with np.errstate(divide="ignore"):
            log_p = np.where(fill < 1, slots * np.log1p(-np.minimum(fill, 1 - 1e-12)), -np.inf)
    p_empty = np.exp(log_p)
    complete = np.zeros(len(idx), bool)
    if origins is not None:  # the evidence names both neighbours' origins
        before_code, after_code = origins.codes[idx], origins.codes[idx + 1]
        before, after = origins.names[before_code], origins.names[after_code]
        complete_name = np.isin(origins.names, list(facts.complete_origins))
        complete = (before_code == after_code) & complete_name[before_code]
        if written is not None and complete.any():
            complete &= written.covers(before, times_ms[idx] + step_ms, times_ms[idx + 1])
    no_trades = (p_empty >= PLAUSIBLE) | complete
    if not facts.skips_empty_candles:
        no_trades[:] = False  # a source that emits every slot has no legitimate holes
    slot_list, p_list = slots.tolist(), p_empty.tolist()
    if trades is not None:
        first = [
            f"{r:.3g} trades/slot nearby; P(no trade in {s} slots) = {p:.1e}"
            for r, s, p in zip(rate.tolist(), slot_list, p_list, strict=True)
        ]
    else:
        first = [
            f"{r / max(sp, 1):.0%} of nearby slots filled; P(empty run of {s}) = {p:.1e}"
            for r, sp, s, p in zip(rows.tolist(), span_slots.tolist(), slot_list, p_list, strict=True)
        ]
    if origins is None:
        return p_empty, no_trades, [[line] for line in first]
    complete_note = " (complete history: nobody traded)" if facts.skips_empty_candles else ""
    evidence = [
        [line, f"neighbours from {b} / {a}{complete_note if c else ''}"]
        for line, b, a, c in zip(first, before.tolist(), after.tolist(), complete.tolist(), strict=True)
    ]
    return p_empty, no_trades, evidence


def _window_sums(values: np.ndarray, lo: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Sums of ``values[lo[i] : lo[i] + lengths[i]]`` touching only the window rows (no full cumsum)."""
    starts = np.cumsum(lengths) - lengths
    flat = np.repeat(lo - starts, lengths) + np.arange(int(lengths.sum()))
    return np.add.reduceat(values[flat].astype(np.float64), starts)


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
    written: WrittenRanges | None = None,
    facts: ExchangeFacts | None = None,
) -> GapReport:
    """Gaps of a sorted candle frame (``time``, optional ``trades``, ``origin``); ``start_ms``/``end_ms``
    add the never-fetched head and tail of a requested range as "missing". ``origin`` gives the rows'
    origins instead of an ``origin`` column: one for all, or per row (:class:`RowOrigins`); ``written`` the
    ranges each origin's writes covered (see :func:`classify`). ``facts`` describe the exchange (default: a
    generic one, see :class:`ExchangeFacts`)."""
    columns = frame_columns(frame, origin, written)
    return columns_gap_report(
        columns, exchange, pair, timeframe, start_ms=start_ms, end_ms=end_ms, now_ms=now_ms, fill=fill, facts=facts
    )


def columns_gap_report(
    columns: SeriesColumns,
    exchange: str,
    pair: str,
    timeframe: str,
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    now_ms: int | None = None,
    fill: bool = True,
    facts: ExchangeFacts | None = None,
    verdicts: Verdicts | None = None,
) -> GapReport:
    """:func:`gap_report` of columns already read; ``verdicts`` (what repairs recorded) turn holes proven
    empty into "no_trades" and name the unfillable ones."""
    facts = facts or ExchangeFacts()
    step = timeframe_ms(timeframe)
    times, trades = columns.times, columns.trades
    idx, starts, slots = find_gaps(times, step)
    p_empty, no_trades, evidence = classify(
        times, trades, columns.origins, step, facts, holes=(idx, slots), written=columns.written
    )
    head, tail = _edges(times, step, start_ms, end_ms)
    gaps = head + [
        Gap(int(start), int(start + n * step), int(n), "no_trades" if empty else "missing", float(p), lines)
        for start, n, empty, p, lines in zip(
            starts.tolist(), slots.tolist(), no_trades.tolist(), p_empty.tolist(), evidence, strict=True
        )
    ]
    gaps += tail
    verdicts = verdicts or Verdicts()
    proofs = [verdicts.empty_reason(g.start_ms, g.end_ms) for g in gaps] if len(verdicts.empty) else [None] * len(gaps)
    for gap, proof in zip(gaps, proofs, strict=True):
        if proof is not None:
            gap.kind = "no_trades"
            gap.evidence = [*gap.evidence, proof]
            gap.repair, gap.reason = "no-trades", proof
        elif gap.kind == "no_trades":
            gap.repair, gap.reason = "no-trades", _no_trades_reason(gap)
    if fill:
        rate_all = None
        if trades is not None and len(times):
            rate_all = float(trades.sum()) / max(1, (times[-1] - times[0]) // step + 1)
        for gap in gaps:
            if gap.kind == "missing":
                gap.fill = facts.fill_options(
                    pair, timeframe, gap.start_ms, gap.end_ms, now_ms=now_ms, trades_per_slot=rate_all
                )
                gap.repair, gap.reason = _fill_verdict(gap.fill, verdicts.unfillable_reason(gap.start_ms, gap.end_ms))
    return GapReport(
        exchange,
        pair,
        timeframe,
        len(times),
        int(times[0]) if len(times) else None,
        int(times[-1]) if len(times) else None,
        gaps,
        fill,
    )


def _no_trades_reason(gap: Gap) -> str:
    """Why a "no_trades" hole needs nothing: complete-history neighbours prove it, the trading rate only
    makes it likely."""
    if gap.p_empty is not None and gap.p_empty < PLAUSIBLE:
        return "proven: " + gap.evidence[-1]
    return "likely: " + (gap.evidence[0] if gap.evidence else "the trading rate around it")


def _fill_verdict(fill: dict[str, Any], recorded: str | None) -> tuple[str, str]:
    """("fillable", how) or ("unfillable", why) for a missing hole: a repair's recorded verdict first (the
    way it tried could not reach the hole), else what the exchange offers."""
    if recorded is not None:
        return "unfillable", recorded
    choice = fill.get("recommended")
    if choice:
        return "fillable", f"{choice}: {fill[choice].get('detail')}"
    why = [str(option.get("detail")) for name, option in fill.items() if name != "recommended" and option]
    return "unfillable", "; ".join(why) or "the exchange offers no way to fetch past candles"


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
    """Gap report straight from the lake: reads only the columns it uses (see :func:`lake_columns`)."""
    from tradecore.data.lake import LakeError, to_ms

    start_ms, end_ms = to_ms(start), to_ms(end)
    if start_ms is not None and end_ms is not None and start_ms >= end_ms:
        raise LakeError(f"start {iso_ms(start_ms)} is not before end {iso_ms(end_ms)}")
    from tradecore.data.hole_verdicts import HoleVerdicts

    columns = lake_columns(lake, exchange, pair, timeframe, start_ms, end_ms)
    verdicts = HoleVerdicts(lake.root).load(exchange, pair, timeframe)
    return columns_gap_report(
        columns,
        exchange,
        pair,
        timeframe,
        start_ms=start_ms,
        end_ms=end_ms,
        now_ms=now_ms,
        facts=facts,
        verdicts=verdicts,
    )


def summary_line(report: GapReport) -> str:
    """The text form of :meth:`GapReport.counts` (same names: gaps, slots, no trades, missing)."""
    c = {**report.counts(), **report.repair_counts()}
    line = (
        f"{report.exchange} {report.pair} {report.timeframe}: {report.rows:,} candles, {c['gap_count']:,} gaps "
        f"({c['gap_slots']:,} empty slots): {c['no_trades_gaps']:,} no trades ({c['no_trades_slots']:,} slots), "
        f"{c['missing_gaps']:,} missing ({c['missing_slots']:,} slots)"
    )
    if "fillable_gaps" in c:
        line += f" of which {c['fillable_gaps']:,} fillable, {c['unfillable_gaps']:,} unfillable"
    return line
