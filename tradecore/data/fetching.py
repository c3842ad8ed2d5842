"""The contract of sources that fill the lake (:class:`FetchingSource`) and what they hand the CLI: plan
steps, fetch results and a progress reporter."""

from __future__ import annotations

import sys
from abc import abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tradecore.data.exchange_facts import ExchangeFacts
from tradecore.data.lake import iso_ms
from tradecore.errors import TradecoreError
from tradecore.interfaces import DataSource

if TYPE_CHECKING:
    from tradecore.data.jobs import Job, JobStore
    from tradecore.data.lake import Lake


class OutOfReach(TradecoreError):
    """A range the source cannot fetch the way it was asked (beyond its reachable history); the message names
    what would reach it. Raised by ``plan`` or ``fetch``; ``tradecore data repair`` records such a hole as
    unfillable with this message, where any other error fails the repair."""


@dataclass(frozen=True)
class PlanStep:
    """One planned piece of work: ``method`` (e.g. dump, rest, trades, synthetic) over [start_ms, end_ms)."""

    method: str
    start_ms: int
    end_ms: int
    detail: str = ""
    #: rough request count or rows, when the source can tell
    estimate: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "start": iso_ms(self.start_ms),
            "end": iso_ms(self.end_ms),
            "detail": self.detail,
            "estimate": dict(self.estimate),
        }


@dataclass
class FetchResult:
    """What one fetch unit stored."""

    rows: int = 0
    first_ms: int | None = None
    last_ms: int | None = None
    requests: int = 0
    counts: dict[str, Any] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "first_ms": self.first_ms,
            "last_ms": self.last_ms,
            "first": iso_ms(self.first_ms),
            "last": iso_ms(self.last_ms),
            "requests": self.requests,
            "counts": dict(self.counts),
            "messages": list(self.messages),
        }


class Progress:
    """A tqdm bar over a time range: rows stored, range reached, ETA. Silent off a terminal.

    ``update(reached_ms, rows=n)`` moves the bar to ``reached_ms`` and adds ``n`` rows.
    """

    def __init__(
        self, start_ms: int, end_ms: int, desc: str = "", *, enabled: bool | None = None, step_ms: int = 60_000
    ) -> None:
        self.start_ms, self.end_ms = int(start_ms), max(int(end_ms), int(start_ms) + 1)
        self.step_ms = max(1, int(step_ms))
        self.rows = 0
        self.reached_ms = self.start_ms
        if enabled is None:
            enabled = sys.stderr.isatty()
        self._bar = None
        if enabled:
            from tqdm import tqdm

            total = max(1, (self.end_ms - self.start_ms) // self.step_ms)
            fmt = "{desc} {percentage:3.0f}%|{bar}| {postfix} [{elapsed}<{remaining}]"
            self._bar = tqdm(
                total=total, desc=desc, unit="bar", file=sys.stderr, dynamic_ncols=True, leave=True, bar_format=fmt
            )

    @property
    def fraction(self) -> float:
        return min(1.0, max(0.0, (self.reached_ms - self.start_ms) / (self.end_ms - self.start_ms)))

    def update(self, reached_ms: int | None = None, rows: int = 0) -> None:
        self.rows += int(rows)
        if reached_ms is not None:
            self.reached_ms = max(self.reached_ms, min(int(reached_ms), self.end_ms))
        if self._bar is not None:
            position = (self.reached_ms - self.start_ms) // self.step_ms
            self._bar.n = min(self._bar.total, position)
            self._bar.set_postfix_str(f"{self.rows:,} rows, reached {iso_ms(self.reached_ms)}", refresh=False)
            self._bar.refresh()

    def message(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=sys.stderr)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class FetchingSource(DataSource):
    """A source that fills the lake itself; one built component (symbol, timeframe, range) is one fetch unit.

    ``tradecore data fetch`` prints ``plan`` for ``--dry-run`` and otherwise runs ``fetch`` inside a
    persisted job; ``fetch`` must resume from ``job.cursor`` and keep it current via ``jobs.update``.
    """

    exchange: str

    @abstractmethod
    def plan(self, lake: Lake) -> list[PlanStep]:
        """The steps a fetch would take (method, range, detail), without network calls that write."""

    @abstractmethod
    def fetch(self, lake: Lake, jobs: JobStore, job: Job, progress: Progress) -> FetchResult:
        """Fetch into ``lake``; resumable from ``job.cursor``."""

    @classmethod
    def exchange_facts(cls, exchange: str) -> ExchangeFacts:
        """What ``exchange`` can still deliver (REST reach, trades history, dumps): ``tradecore data gaps``
        and ``data slices`` take their fill advice and "no trades" evidence from it.

        Asked of the source whose spec names the exchange in ``meta={"exchange": ...}``; the default is
        a generic exchange with paginated REST OHLCV history and no dumps. Override to describe yours::

            @classmethod
            def exchange_facts(cls, exchange):
                return ExchangeFacts(rest_candle_limit=720, trades_history=True)
        """
        return ExchangeFacts()


def run_fetch_job(unit: FetchingSource, lake: Lake, jobs: JobStore, job: Job, progress: Progress) -> FetchResult:
    """Run ``unit.fetch`` inside ``job``: running (owned by this process), then done with its counts, or
    interrupted (Ctrl-C, SIGTERM delivered as Ctrl-C) / failed, re-raised; the cursor the unit saved along the
    way is where a resume starts."""
    from tradecore.owner import current_owner
    from tradecore.plugins import one_line

    jobs.update(job.id, status="running", error=None, owner=current_owner())
    try:
        result = unit.fetch(lake, jobs, job, progress)
    except KeyboardInterrupt:
        jobs.update(job.id, status="interrupted", message="interrupted by the user")
        raise
    except Exception as exc:
        jobs.update(job.id, status="failed", error=one_line(exc))
        raise
    counts = {**job.counts, **jobs.get(job.id).counts, **result.counts, "rows": result.rows}
    jobs.update(job.id, status="done", progress=1.0, counts=counts, message=f"stored {result.rows:,} candles")
    return result
