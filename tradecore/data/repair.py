"""Repair: fill the holes a gap report calls missing, one at a time, each through the source's own fetch
planner (REST, trades rebuilt into candles, a dump), and record what each fetch proved.

A repair is a job (kind ``repair``); each hole it fetches is a child ``fetch`` job whose cursor the source
keeps as in ``tradecore data fetch``, and the repair's cursor names the child in flight, so a killed repair
resumes inside the very hole it was filling. After a hole's fetch, every slot of it still empty inside a
step whose method reads the exchange's complete history (see :func:`proves_empty`) is recorded as proven
empty (:mod:`tradecore.data.hole_verdicts`): the gap report then calls it "no_trades" and no later repair
asks again. A hole the source cannot reach (:class:`~tradecore.data.fetching.OutOfReach`) is recorded as
unfillable with the source's reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tradecore.data.fetching import OutOfReach
from tradecore.data.hole_verdicts import EMPTY, UNFILLABLE, HoleVerdicts
from tradecore.data.lake import iso_ms
from tradecore.timeframes import timeframe_ms

if TYPE_CHECKING:
    from tradecore.data.exchange_facts import ExchangeFacts
    from tradecore.data.fetching import FetchingSource, PlanStep, Progress
    from tradecore.data.gaps import Gap
    from tradecore.data.jobs import Job, JobStore
    from tradecore.data.lake import Lake

#: (start_ms, end_ms) -> the fetch unit for that window and its params model
UnitMaker = Callable[[int, int], "tuple[FetchingSource, Any]"]


def proves_empty(method: str, facts: ExchangeFacts) -> bool:
    """Whether a fetch step of ``method`` that left a slot empty proves nobody traded in it: the method reads
    a complete-history origin (a trades step writes "trades-rebuild") of an exchange that skips empty slots."""
    origin = "trades-rebuild" if method == "trades" else method
    return facts.skips_empty_candles and origin in facts.complete_origins


def empty_runs(lake: Lake, exchange: str, pair: str, timeframe: str, start_ms: int, end_ms: int) -> list[list[int]]:
    """The slots of [start_ms, end_ms) that hold no candle, as [start, end) runs."""
    from tradecore.data.columns import lake_columns

    step = timeframe_ms(timeframe)
    times = lake_columns(lake, exchange, pair, timeframe, start_ms, end_ms).times
    bounds = np.concatenate([[start_ms - step], times, [end_ms]])
    hit = np.flatnonzero(np.diff(bounds) > step)
    return [[int(bounds[i]) + step, int(bounds[i + 1])] for i in hit]


@dataclass
class HoleOutcome:
    """What repairing one hole did: ``result`` is filled, no-trades, partly (some slots left unproven),
    unfillable, or skipped (filled meanwhile)."""

    start_ms: int
    end_ms: int
    slots: int
    result: str
    candles: int = 0
    empty_slots: int = 0
    reason: str = ""
    steps: list[str] = field(default_factory=list)
    fetch_job: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": iso_ms(self.start_ms),
            "end": iso_ms(self.end_ms),
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "slots": self.slots,
            "result": self.result,
            "candles": self.candles,
            "empty_slots": self.empty_slots,
            "reason": self.reason,
            "steps": self.steps,
            "fetch_job": self.fetch_job,
        }


@dataclass
class Series:
    exchange: str
    pair: str
    timeframe: str

    @property
    def label(self) -> str:
        return f"{self.exchange} {self.pair} {self.timeframe}"


class Repairer:
    """Fills holes of one series inside a repair job; ``make_unit`` builds the source's unit for a window."""

    def __init__(
        self,
        lake: Lake,
        jobs: JobStore,
        job: Job,
        series: Series,
        make_unit: UnitMaker,
        facts: ExchangeFacts,
        progress: Progress,
    ) -> None:
        self.lake, self.jobs, self.job, self.series = lake, jobs, job, series
        self.make_unit, self.facts, self.progress = make_unit, facts, progress
        self.verdicts = HoleVerdicts(lake.root)
        self.step = timeframe_ms(series.timeframe)
        self.outcomes: list[HoleOutcome] = []

    def resume_child(self) -> None:
        """Finish the hole a killed repair was filling, from its child job's own cursor."""
        if not self.job.cursor:
            return
        saved = json.loads(self.job.cursor)
        child = self.jobs.get(int(saved["child"]))
        if child.status != "done":
            self.fill(saved["start_ms"], saved["end_ms"], child)

    def run(self, holes: list[Gap]) -> list[HoleOutcome]:
        """Fill each hole in turn (holes filled meanwhile, say by a dump imported for an earlier one, are
        skipped); progress and counts are committed after each."""
        for number, hole in enumerate(holes, 1):
            self.fill(hole.start_ms, hole.end_ms)
            self.jobs.update(self.job.id, progress=round(number / len(holes), 4), counts=self.counts())
        return self.outcomes

    def fill(self, start_ms: int, end_ms: int, child: Job | None = None) -> HoleOutcome:
        s = self.series
        slots = (end_ms - start_ms) // self.step
        before = self._empty(start_ms, end_ms)
        outcome = HoleOutcome(start_ms, end_ms, slots, "skipped")
        self.outcomes.append(outcome)
        if not before:
            return outcome
        try:
            unit, model = self.make_unit(start_ms, end_ms)
            steps = unit.plan(self.lake)
        except OutOfReach as exc:
            return self._unfillable(outcome, str(exc))
        outcome.steps = [f"{step.method} {iso_ms(step.start_ms)} .. {iso_ms(step.end_ms)}" for step in steps]
        if child is None:
            request = {
                "source": self.job.request["source"],
                "label": f"repair {self.job.id}: {s.label} {iso_ms(start_ms)} .. {iso_ms(end_ms)}",
                "params": model.model_dump(mode="json", exclude_none=True),
                "repair_job": self.job.id,
            }
            child = self.jobs.create("fetch", request)
        outcome.fetch_job = child.id
        cursor = json.dumps({"child": child.id, "start_ms": start_ms, "end_ms": end_ms})
        self.jobs.update(self.job.id, cursor=cursor)
        self.jobs.update(child.id, status="running", error=None)
        try:
            result = unit.fetch(self.lake, self.jobs, self.jobs.get(child.id), self.progress)
        except OutOfReach as exc:
            self.jobs.update(child.id, status="failed", error=str(exc))
            return self._unfillable(outcome, str(exc))
        except KeyboardInterrupt:
            self.jobs.update(child.id, status="interrupted", message="interrupted by the user")
            raise
        except Exception as exc:
            from tradecore.plugins import one_line

            self.jobs.update(child.id, status="failed", error=one_line(exc))
            raise
        self.jobs.update(child.id, status="done", progress=1.0, counts={**result.counts, "rows": result.rows})
        outcome.candles = result.rows
        self._record_empty(outcome, steps)
        return outcome

    def _empty(self, start_ms: int, end_ms: int) -> list[list[int]]:
        s = self.series
        return empty_runs(self.lake, s.exchange, s.pair, s.timeframe, start_ms, end_ms)

    def _record_empty(self, outcome: HoleOutcome, steps: list[PlanStep]) -> None:
        """Record the slots still empty inside proving steps; the hole is "partly" when some stay unproven."""
        s = self.series
        proven: list[tuple[int, int]] = []
        methods: list[str] = []
        unproven = 0
        for lo, hi in self._empty(outcome.start_ms, outcome.end_ms):
            covered = 0
            for step in steps:
                a, b = max(lo, step.start_ms), min(hi, step.end_ms)
                if a < b and proves_empty(step.method, self.facts):
                    proven.append((a, b))
                    covered += b - a
                    methods += [step.method] if step.method not in methods else []
            unproven += (hi - lo - covered) // self.step
        if proven:
            reason = f"verified: {' and '.join(methods)} found no trade (repair job {self.job.id})"
            self.verdicts.record(s.exchange, s.pair, s.timeframe, proven, EMPTY, reason, self.job.id)
        outcome.empty_slots = sum(b - a for a, b in proven) // self.step
        if unproven:
            outcome.result = "partly"
            outcome.reason = f"{unproven:,} slots still empty, not proven empty by {self.job.request['source']}"
        elif outcome.candles:
            outcome.result = "filled"
        else:
            outcome.result = "no-trades"

    def _unfillable(self, outcome: HoleOutcome, reason: str) -> HoleOutcome:
        s = self.series
        spans = [(lo, hi) for lo, hi in self._empty(outcome.start_ms, outcome.end_ms)]
        self.verdicts.record(s.exchange, s.pair, s.timeframe, spans, UNFILLABLE, reason, self.job.id)
        outcome.result, outcome.reason = "unfillable", reason
        return outcome

    def counts(self) -> dict[str, int]:
        done = [o for o in self.outcomes if o.result != "skipped"]
        return {
            "holes": len(done),
            "filled": sum(1 for o in done if o.result == "filled"),
            "no_trades": sum(1 for o in done if o.result == "no-trades"),
            "partly": sum(1 for o in done if o.result == "partly"),
            "unfillable": sum(1 for o in done if o.result == "unfillable"),
            "rows": sum(o.candles for o in done),
            "empty_slots": sum(o.empty_slots for o in done),
        }
