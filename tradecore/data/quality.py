"""Quality of the candles a run uses: slots expected and present, holes by kind, the largest ones; the
requirement a manifest sets (``data.quality``, ``data.slice``) and the one-line refusal when they fall short.

The holes come from the gap report (:func:`tradecore.data.gaps.gap_report`): "no_trades" holes are slots
nobody traded in, "missing" holes are data to fill. The range is the one the source was asked for when it
says so (``describe()``'s ``start``/``end``), so a range the lake never held counts as missing too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradecore.data.exchange_facts import ExchangeFacts
from tradecore.data.gaps import gap_report
from tradecore.data.slices import SLICES_KIND
from tradecore.errors import TradecoreError
from tradecore.timeframes import timeframe_ms

if TYPE_CHECKING:
    import polars as pl

    from tradecore.config.data import DataConfig, SliceRef

#: how to fill holes, for every refusal and warning
FILL_HINT = "`tradecore data gaps` lists them; fill with `tradecore data repair` (or `tradecore data fetch`)"


@dataclass(frozen=True)
class Quality:
    """Holes and coverage of one range of candles; keys are named for what they count."""

    timeframe: str
    first: str | None
    end: str | None
    expected_slots: int
    present_slots: int
    gap_count: int
    gap_slots: int
    no_trades_gaps: int
    no_trades_slots: int
    missing_gaps: int
    missing_slots: int
    largest_gap_slots: int
    largest_missing_slots: int
    largest_missing_start: str | None

    @property
    def coverage(self) -> float:
        """Fraction of the range's slots that hold a candle."""
        return self.present_slots / self.expected_slots if self.expected_slots else 0.0

    @property
    def missing_fraction(self) -> float:
        """Fraction of the range's slots that are missing data (not slots nobody traded in)."""
        return self.missing_slots / self.expected_slots if self.expected_slots else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "coverage": round(self.coverage, 6),
            "missing_fraction": round(self.missing_fraction, 6),
        }

    def summary(self) -> str:
        """One phrase for a stage line: the holes by kind and the coverage."""
        if not self.gap_count:
            return "no holes"
        largest = (
            f", largest {self.largest_missing_slots:,} from {self.largest_missing_start}" if self.missing_gaps else ""
        )
        return (
            f"{self.gap_count:,} holes: {self.missing_slots:,} missing slots in {self.missing_gaps:,}{largest}, "
            f"{self.no_trades_slots:,} with no trades; coverage {self.coverage:.2%} of {self.expected_slots:,} slots"
        )


def candle_quality(
    frame: pl.DataFrame,
    timeframe: str,
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    facts: ExchangeFacts | None = None,
) -> Quality:
    """The :class:`Quality` of a sorted candle frame (``time``, optional ``trades``/``origin``) over
    [``start_ms``, ``end_ms``) (default: its first to its last candle)."""
    report = gap_report(frame, "", "", timeframe, start_ms=start_ms, end_ms=end_ms, fill=False, facts=facts)
    counts = report.counts()
    missing = [g for g in report.gaps if g.kind == "missing"]
    worst = max(missing, key=lambda g: g.slots, default=None)
    first, end = _span(report.gaps, report.first_ms, report.last_ms, timeframe_ms(timeframe))
    return Quality(
        timeframe=timeframe,
        first=_iso(first),
        end=_iso(end),
        expected_slots=report.rows + counts["gap_slots"],
        present_slots=report.rows,
        gap_count=counts["gap_count"],
        gap_slots=counts["gap_slots"],
        no_trades_gaps=counts["no_trades_gaps"],
        no_trades_slots=counts["no_trades_slots"],
        missing_gaps=counts["missing_gaps"],
        missing_slots=counts["missing_slots"],
        largest_gap_slots=max((g.slots for g in report.gaps), default=0),
        largest_missing_slots=worst.slots if worst else 0,
        largest_missing_start=_iso(worst.start_ms) if worst else None,
    )


def _span(gaps: list[Any], first_ms: int | None, last_ms: int | None, step: int) -> tuple[int | None, int | None]:
    """[first slot, end) of the range a gap report covered: its candles, widened by the head and tail holes."""
    if first_ms is None or last_ms is None:  # no candle at all: the range is the one hole
        return (gaps[0].start_ms, gaps[0].end_ms) if gaps else (None, None)
    first = gaps[0].start_ms if gaps and gaps[0].start_ms < first_ms else first_ms
    end = gaps[-1].end_ms if gaps and gaps[-1].start_ms > last_ms else last_ms + step
    return first, end


@dataclass(frozen=True)
class Requirement:
    """What the manifest asks of the candles; ``where`` is the manifest key it comes from, ``fix`` how else to
    pass than by filling the holes."""

    where: str
    fix: str
    min_coverage: float | None = None
    max_missing_ms: int | None = None
    max_gap_slots: int | None = None

    def problem(self, q: Quality) -> str | None:
        """One line naming the numbers and the fix, or None when ``q`` meets the requirement."""
        span = f"{q.expected_slots:,} {q.timeframe} slots from {q.first} to {q.end}"
        if self.min_coverage is not None and q.coverage < self.min_coverage:
            return (
                f"{self.where}: the candles cover {q.coverage:.2%} of the {span} ({q.missing_slots:,} missing in "
                f"{q.missing_gaps:,} holes, {q.no_trades_slots:,} with no trades), below the {self.min_coverage:.2%} "
                f"required; fill the holes ({FILL_HINT}) or {self.fix}"
            )
        step = timeframe_ms(q.timeframe)
        if self.max_missing_ms is not None and q.largest_missing_slots * step > self.max_missing_ms:
            return (
                f"{self.where}: {q.largest_missing_slots:,} {q.timeframe} candles are missing in a row from "
                f"{q.largest_missing_start}, longer than the {_duration(self.max_missing_ms)} allowed ({span}); "
                f"fill the hole ({FILL_HINT}) or {self.fix}"
            )
        if self.max_gap_slots is not None and q.largest_gap_slots > self.max_gap_slots:
            return (
                f"{self.where}: a hole of {q.largest_gap_slots:,} {q.timeframe} slots, longer than the "
                f"{self.max_gap_slots:,} the slice was cut with ({span}); fill it ({FILL_HINT}) or {self.fix}"
            )
        return None


@dataclass
class Assessed:
    """The candles a run uses (trimmed to the slice it names), their quality and what to record and print."""

    frame: pl.DataFrame
    quality: Quality
    record: dict[str, Any]
    warnings: list[str]


def assess(
    frame: pl.DataFrame, describe: dict[str, Any], config: DataConfig, facts: ExchangeFacts | None = None
) -> Assessed:
    """Trim ``frame`` to ``config.slice``, measure its quality over the range the source was asked for, and
    raise :class:`TradecoreError` (one line) when it falls short of ``config``; warn above
    ``config.warn_missing`` missing slots."""
    from tradecore.data.lake import to_ms

    timeframe = describe.get("timeframe", "1m")
    start_ms, end_ms = to_ms(describe.get("start")), to_ms(describe.get("end"))
    requirements: list[Requirement] = []
    record: dict[str, Any] = {}
    if config.slice is not None:
        doc, piece = load_slice(config.slice)
        _check_series(doc, describe, config.slice.file)
        start_ms, end_ms = int(piece["start_ms"]), int(piece["end_ms"])
        frame = _between(frame, start_ms, end_ms)
        rules = doc.get("rules") or {}
        requirements.append(
            Requirement(
                "data.slice",
                "cut the slices again with `tradecore data slices`",
                min_coverage=rules.get("min_coverage"),
                max_gap_slots=rules.get("max_gap_bars"),
            )
        )
        record["slice"] = {"file": config.slice.file, "index": config.slice.index, **piece, "rules": rules}
    if config.quality is not None:
        requirements.append(
            Requirement(
                "data.quality",
                "relax data.quality in the manifest",
                min_coverage=config.quality.min_coverage,
                max_missing_ms=config.quality.max_missing_ms(),
            )
        )
        record["required"] = config.quality.model_dump(exclude_none=True)
    quality = candle_quality(frame, timeframe, start_ms=start_ms, end_ms=end_ms, facts=facts)
    for requirement in requirements:
        problem = requirement.problem(quality)
        if problem is not None:
            raise TradecoreError(problem)
    warnings = []
    if quality.missing_fraction > config.warn_missing:
        warnings.append(
            f"warning: {quality.missing_slots:,} of {quality.expected_slots:,} {timeframe} slots are missing "
            f"({quality.missing_fraction:.1%}; largest hole {quality.largest_missing_slots:,} from "
            f"{quality.largest_missing_start}); the run trains across them: {FILL_HINT}, or set data.quality "
            "to refuse such data"
        )
    return Assessed(frame, quality, record, warnings)


def source_facts(source: Any, describe: dict[str, Any]) -> ExchangeFacts:
    """What the source's exchange can deliver (its "no trades" evidence); a generic exchange for a source
    that does not fill the lake."""
    from tradecore.data.fetching import FetchingSource

    if isinstance(source, FetchingSource):
        return type(source).exchange_facts(str(describe.get("exchange", source.exchange)))
    return ExchangeFacts()


def load_slice(ref: SliceRef) -> tuple[dict[str, Any], dict[str, Any]]:
    """The slices document ``ref.file`` and its slice ``ref.index``; one-line errors naming the key."""
    path = Path(ref.file)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TradecoreError(
            f"data.slice.file: {path} not found; write it with `tradecore data slices ... -o {path}`"
        ) from None
    except (OSError, ValueError) as exc:
        raise TradecoreError(f"data.slice.file: cannot read {path}: {exc}") from None
    if not isinstance(doc, dict) or doc.get("kind") != SLICES_KIND or not isinstance(doc.get("slices"), list):
        raise TradecoreError(f"data.slice.file: {path} is not a slices file; write one with `tradecore data slices -o`")
    count = len(doc["slices"])
    if ref.index >= count:
        held = f"holds {count} slice(s): use an index from 0 to {count - 1}" if count else "holds no slice"
        raise TradecoreError(f"data.slice.index: {ref.index}, but {path} {held}")
    return doc, doc["slices"][ref.index]


def _check_series(doc: dict[str, Any], describe: dict[str, Any], file: str) -> None:
    theirs = [doc.get(k) for k in ("exchange", "pair", "timeframe")]
    ours = [describe.get(k) for k in ("exchange", "pair", "timeframe")]
    if theirs != ours:
        raise TradecoreError(
            f"data.slice: {file} cuts {' '.join(map(str, theirs))} but the source loads {' '.join(map(str, ours))}; "
            "name the slices of the source's series"
        )


def _between(frame: pl.DataFrame, start_ms: int, end_ms: int) -> pl.DataFrame:
    """Rows of a sorted candle frame with open times in [start_ms, end_ms)."""
    import numpy as np

    from tradecore.data.columns import epoch_ms

    times = epoch_ms(frame["time"])
    a, b = np.searchsorted(times, [start_ms, end_ms])
    return frame.slice(int(a), int(b - a))


def _duration(ms: int) -> str:
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms / 60_000:g}m"


def _iso(ms: int | None) -> str | None:
    """ISO 8601 UTC with a ``Z``, as run.json writes times."""
    from datetime import UTC, datetime

    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
