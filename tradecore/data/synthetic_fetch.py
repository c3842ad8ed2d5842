"""The built-in ``synthetic`` source as a fetch unit, so ``tradecore data fetch --source synthetic`` fills the
lake offline (origin "synthetic"). It wraps :class:`tradecore.data.synthetic.SyntheticSource` unchanged.

A unit with a ``window`` generates the whole series (the candles depend on every bar before them) and writes
only the bars inside the window: how ``tradecore data repair`` fills a hole with the very candles a clean
fetch with the same params holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradecore.data.exchange_facts import ExchangeFacts
from tradecore.data.fetching import FetchingSource, FetchResult, PlanStep, Progress
from tradecore.interfaces import RunContext
from tradecore.timeframes import timeframe_ms

if TYPE_CHECKING:
    import polars as pl

    from tradecore.data.jobs import Job, JobStore
    from tradecore.data.lake import Lake

EXCHANGE = "synthetic"
#: candles written per step; the job cursor advances after each, so a killed fetch resumes there
CHUNK_BARS = 50_000


class SyntheticFacts(ExchangeFacts):
    """Generated candles: every slot is emitted (a hole is never "no trades"), and any hole can be generated
    again from the seed."""

    def fill_options(self, pair: str, timeframe: str, start_ms: int, end_ms: int, **_: Any) -> dict[str, Any]:
        detail = "generated again from the params of the fetch that wrote the series (`tradecore data repair`)"
        return {"regenerate": {"ok": True, "detail": detail}, "recommended": "regenerate"}


class SyntheticFetchSource(FetchingSource):
    """Generates the candles (deterministic from params and seed) and writes them chunk by chunk, or only those
    in ``window`` [start_ms, end_ms)."""

    exchange = EXCHANGE

    def __init__(self, source: Any, window: tuple[int, int] | None = None) -> None:
        self.source = source
        self.params = source.params
        self.window = window

    @property
    def pair(self) -> str:
        return self.params.symbol

    @property
    def timeframe(self) -> str:
        return self.params.timeframe

    def _series(self) -> tuple[int, int]:
        """[first bar, end) of the whole generated series."""
        step = timeframe_ms(self.timeframe)
        start = int(self.params.start.timestamp() * 1000)
        start -= start % step
        return start, start + self.params.bars * step

    def _range(self) -> tuple[int, int]:
        """[first bar, end) this unit writes: the series, cut to the window."""
        start, end = self._series()
        if self.window is None:
            return start, end
        step = timeframe_ms(self.timeframe)
        lo = max(start, self.window[0] - self.window[0] % step)
        return lo, max(lo, min(end, self.window[1]))

    @classmethod
    def exchange_facts(cls, exchange: str) -> ExchangeFacts:
        """Generated candles: every slot is emitted, so a hole is never "no trades"; any hole regenerates."""
        return SyntheticFacts(rest_history=False, skips_empty_candles=False, history_start="2020-01-01")

    def load(self, ctx: RunContext) -> pl.DataFrame:
        return self.source.load(ctx)

    def describe(self) -> dict[str, Any]:
        return self.source.describe()

    def plan(self, lake: Lake) -> list[PlanStep]:
        start, end = self._range()
        if start >= end:
            return []
        rows = (end - start) // timeframe_ms(self.timeframe)
        what = "write them" if self.window is None else f"write the {rows:,} in the window"
        return [
            PlanStep(
                "synthetic",
                start,
                end,
                f"generate {self.params.bars:,} {self.timeframe} candles (seed {self.params.seed}) and {what}",
                {"rows": rows},
            )
        ]

    def fetch(self, lake: Lake, jobs: JobStore, job: Job, progress: Progress) -> FetchResult:
        from tradecore.data.synthetic import generate_candles

        step = timeframe_ms(self.timeframe)
        frame = generate_candles(self.params)
        series_start = self._series()[0]
        start, end = self._range()
        done_until = int(job.cursor) if job.cursor else start  # exclusive: candles before it are stored
        result = FetchResult(counts=dict(job.counts))
        progress.update(done_until)
        for lo in range(done_until, end, CHUNK_BARS * step):
            hi = min(end, lo + CHUNK_BARS * step)
            first = (lo - series_start) // step
            chunk = frame.slice(first, (hi - lo) // step)
            written = lake.write(EXCHANGE, self.pair, self.timeframe, chunk, "synthetic")
            result.rows += written.rows_written
            result.counts["rows"] = result.counts.get("rows", 0) + written.rows_written
            jobs.update(job.id, cursor=str(hi), progress=(hi - start) / (end - start), counts=result.counts)
            progress.update(hi, rows=written.rows_written)
        if start < end:
            result.first_ms, result.last_ms = start, end - step
        return result


def synthetic_fetcher(params: Any, window: tuple[int, int] | None = None) -> SyntheticFetchSource:
    """Factory: a fetch unit from :class:`~tradecore.data.synthetic.SyntheticParams` (only ``window``, if given)."""
    from tradecore.data.synthetic import SyntheticSource

    return SyntheticFetchSource(SyntheticSource(params), window)
