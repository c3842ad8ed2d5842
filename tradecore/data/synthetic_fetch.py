"""The built-in ``synthetic`` source as a fetch unit, so ``tradecore data fetch --source synthetic`` fills the
lake offline (origin "synthetic"). It wraps :class:`tradecore.data.synthetic.SyntheticSource` unchanged.
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


class SyntheticFetchSource(FetchingSource):
    """Generates the candles (deterministic from params and seed) and writes them chunk by chunk."""

    exchange = EXCHANGE

    def __init__(self, source: Any) -> None:
        self.source = source
        self.params = source.params

    @property
    def pair(self) -> str:
        return self.params.symbol

    @property
    def timeframe(self) -> str:
        return self.params.timeframe

    def _range(self) -> tuple[int, int]:
        step = timeframe_ms(self.timeframe)
        start = int(self.params.start.timestamp() * 1000)
        start -= start % step
        return start, start + self.params.bars * step

    @classmethod
    def exchange_facts(cls, exchange: str) -> ExchangeFacts:
        """Generated candles: every slot is emitted, so a hole is never "no trades"; nothing to refetch."""
        return ExchangeFacts(rest_history=False, skips_empty_candles=False, history_start="2020-01-01")

    def load(self, ctx: RunContext) -> pl.DataFrame:
        return self.source.load(ctx)

    def describe(self) -> dict[str, Any]:
        return self.source.describe()

    def plan(self, lake: Lake) -> list[PlanStep]:
        start, end = self._range()
        return [
            PlanStep(
                "synthetic",
                start,
                end,
                f"generate {self.params.bars:,} {self.timeframe} candles (seed {self.params.seed}) and write them",
                {"rows": self.params.bars},
            )
        ]

    def fetch(self, lake: Lake, jobs: JobStore, job: Job, progress: Progress) -> FetchResult:
        from tradecore.data.synthetic import generate_candles

        step = timeframe_ms(self.timeframe)
        frame = generate_candles(self.params)
        start, end = self._range()
        done_until = int(job.cursor) if job.cursor else start  # exclusive: candles before it are stored
        result = FetchResult(counts=dict(job.counts))
        progress.update(done_until)
        for lo in range(done_until, end, CHUNK_BARS * step):
            hi = min(end, lo + CHUNK_BARS * step)
            first = (lo - start) // step
            chunk = frame.slice(first, (hi - lo) // step)
            written = lake.write(EXCHANGE, self.pair, self.timeframe, chunk, "synthetic")
            result.rows += written.rows_written
            result.counts["rows"] = result.counts.get("rows", 0) + written.rows_written
            jobs.update(job.id, cursor=str(hi), progress=(hi - start) / (end - start), counts=result.counts)
            progress.update(hi, rows=written.rows_written)
        result.first_ms, result.last_ms = start, end - step
        return result


def synthetic_fetcher(params: Any) -> SyntheticFetchSource:
    """Factory: a fetch unit from :class:`~tradecore.data.synthetic.SyntheticParams`."""
    from tradecore.data.synthetic import SyntheticSource

    return SyntheticFetchSource(SyntheticSource(params))
