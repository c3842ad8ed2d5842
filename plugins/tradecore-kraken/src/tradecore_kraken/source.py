"""The ``kraken`` source component: plans and runs fetches into the lake, then loads candles.

One built component is one fetch unit (symbol, timeframe, range). ``plan`` lists the steps
(dump / rest / trades) without writing; ``fetch`` runs them inside a persisted job and resumes from
``job.cursor``; ``load`` fetches what the lake lacks and returns the candles for the run.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from tradecore.api import (
    FetchingSource,
    FetchResult,
    PlanStep,
    Progress,
    RunContext,
    StreamingSource,
    timeframe_ms,
)
from tradecore_kraken.errors import KrakenError, Unreachable
from tradecore_kraken.pairs import symbol_to_altname
from tradecore_kraken.params import KrakenParams

if TYPE_CHECKING:
    from collections.abc import Sequence

    import polars as pl

    from tradecore.api import ExchangeFacts, Job, JobStore, Lake, TradeStream
    from tradecore_kraken.kraken_api import KrakenApi


def to_ms(value: Any) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def step_cursor(reached_ms: int) -> str:
    return json.dumps({"method": "step", "reached_ms": reached_ms})


def reached_of(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        data = json.loads(cursor)
        return int(data.get("reached_ms", data.get("window_start")))
    except (ValueError, TypeError, AttributeError):
        return None


class KrakenSource(FetchingSource, StreamingSource):
    """Kraken OHLCV into the lake: dumps, REST OHLC, trades rebuilt into candles."""

    exchange = "kraken"

    @classmethod
    def exchange_facts(cls, exchange: str) -> ExchangeFacts:
        """REST reach (720 candles), the trades history and the OHLCVT dump names, for gap reports."""
        from tradecore_kraken.facts import KRAKEN_FACTS

        return KRAKEN_FACTS

    def __init__(self, params: KrakenParams) -> None:
        self.params = params
        self.step = timeframe_ms(params.timeframe)
        self.altname = symbol_to_altname(params.symbol)
        self._api: KrakenApi | None = None
        self._now_ms: int | None = None

    # ---- pieces -------------------------------------------------------------------------------

    @property
    def api(self) -> KrakenApi:
        if self._api is None:
            from tradecore_kraken.client import RetryPolicy, make_exchange
            from tradecore_kraken.kraken_api import KrakenApi

            p = self.params
            exchange = make_exchange(
                "kraken",
                rate_limit=p.rate_limit,
                rate_limit_ms=p.rate_limit_ms,
                api_url=p.api_url,
                timeout_ms=p.timeout_ms,
            )
            self._api = KrakenApi(exchange, RetryPolicy(max_retries=p.max_retries, base_s=p.backoff_s))
        return self._api

    def now_ms(self) -> int:
        """The exchange clock (Kraken's Time endpoint), asked once per source."""
        if self._now_ms is None:
            self._now_ms = self.api.server_time_ms()
        return self._now_ms

    def pair_id(self) -> str:
        return self.api.market(self.params.symbol)["id"]

    def dump_members(self) -> list[Any]:
        from tradecore_kraken.dumps import find_members

        if not self.params.dumps:
            return []
        return [
            m
            for m in find_members(self.params.dumps)
            if m.altname == self.altname and m.timeframe == self.params.timeframe
        ]

    def _range(self, lake: Lake, now_ms: int | None) -> tuple[int, int]:
        from tradecore_kraken.planner import rest_reach

        p, step = self.params, self.step
        start = to_ms(p.start)
        if start is None:  # incremental refresh: from the bar after the newest stored one
            last = lake.last_time(self.exchange, p.symbol, p.timeframe)
            if last is not None:
                start = last + step
            elif p.method in ("auto", "rest") and now_ms is not None and not p.dumps:
                start = rest_reach(p.timeframe, now_ms)
            elif p.method == "dump" or p.dumps:
                start = 0
            else:
                raise KrakenError(
                    "source.params.start: nothing is stored yet for "
                    f"{p.symbol} {p.timeframe}; give a start date, e.g. 2024-01-01"
                )
        end = to_ms(p.end)
        if end is None:
            end = now_ms if now_ms is not None else 2**62
        start -= start % step
        end = -(-end // step) * step
        return start, end

    def plan(self, lake: Lake) -> list[PlanStep]:
        from tradecore_kraken.dumps import coverage_of
        from tradecore_kraken.planner import DumpCoverage, plan

        p = self.params
        members = self.dump_members()
        if p.dumps and not members:
            from tradecore_kraken.planner import dump_name

            raise KrakenError(
                f"source.params.dumps: none of the given paths holds "
                f"{dump_name(self.altname, p.timeframe)} for {p.symbol} {p.timeframe}"
            )
        covers = [DumpCoverage(m.label, *coverage_of(m)) for m in members]
        now = None if p.method == "dump" else self.now_ms()
        start, end = self._range(lake, now)
        if covers and p.start is None and start == 0:
            start = min(c.first_ms for c in covers)
        if now is None and p.end is None:  # dumps only: up to the newest dump bar
            if not covers:
                raise KrakenError("source.params.dumps: method dump needs dump files; pass Kraken OHLCVT CSVs or ZIPs")
            end = max(c.last_ms for c in covers) + self.step
        if start >= end:
            return []
        rate = (p.rate_limit_ms if p.rate_limit_ms is not None else 1000) * 1.2 / 1000 if p.rate_limit else 0.0
        return plan(p.method, p.timeframe, self.altname, start, end, now, covers, rate_limit_s=rate)

    # ---- fetching -----------------------------------------------------------------------------

    def fetch(self, lake: Lake, jobs: JobStore, job: Job, progress: Progress) -> FetchResult:
        steps = self.plan(lake)
        result = FetchResult()
        reached = reached_of(job.cursor)
        if not steps:
            result.messages.append("nothing to fetch: the lake is up to date")
            return result
        total_start, total_end = steps[0].start_ms, steps[-1].end_ms
        counts: dict[str, Any] = {}

        def save(cursor: str, reached_ms: int) -> None:
            fraction = (reached_ms - total_start) / max(1, total_end - total_start)
            jobs.update(job.id, cursor=cursor, progress=round(min(1.0, max(0.0, fraction)), 4), counts=counts)

        for step in steps:
            if reached is not None and step.end_ms <= reached:
                continue  # done before the interruption
            if step.method == "dump":
                self._run_dumps(lake, result, counts, progress)
            elif step.method == "rest":
                self._run_rest(lake, step, result, counts, progress)
            else:
                self._run_trades(lake, step, job.cursor, result, counts, progress, save)
            save(step_cursor(step.end_ms), step.end_ms)
        result.requests = self._api.requests if self._api else 0
        retries = self._api.policy.retries if self._api else {}
        if retries:
            counts["retries"] = dict(retries)
            result.messages.append("retried: " + ", ".join(f"{k} x{v}" for k, v in sorted(retries.items())))
        result.counts = counts
        return result

    def _note(
        self,
        result: FetchResult,
        frame: pl.DataFrame | None = None,
        first: int | None = None,
        last: int | None = None,
        rows: int = 0,
    ) -> None:
        result.rows += rows
        if first is not None:
            result.first_ms = first if result.first_ms is None else min(result.first_ms, first)
        if last is not None:
            result.last_ms = last if result.last_ms is None else max(result.last_ms, last)

    def _run_dumps(self, lake: Lake, result: FetchResult, counts: dict[str, Any], progress: Progress) -> None:
        from tradecore_kraken.dumps import DumpLedger, import_member

        ledger = DumpLedger(lake.root)
        for member in self.dump_members():
            outcome = import_member(member, lake, ledger)
            counts[f"dump_{outcome.status}"] = counts.get(f"dump_{outcome.status}", 0) + 1
            result.messages.append(f"{outcome.status} {outcome.label} ({outcome.rows} rows)")
            if outcome.status == "imported":
                self._note(result, first=outcome.first_ms, last=outcome.last_ms, rows=outcome.rows)
                progress.update(outcome.last_ms, rows=outcome.rows)

    def _run_rest(
        self, lake: Lake, step: PlanStep, result: FetchResult, counts: dict[str, Any], progress: Progress
    ) -> None:
        import polars as pl

        from tradecore_kraken.planner import TIMEFRAME_MINUTES

        now = self.now_ms()
        rows = self.api.ohlc(
            self.pair_id(), TIMEFRAME_MINUTES[self.params.timeframe], since_s=step.start_ms // 1000 - self.step // 1000
        )
        keep = [
            r
            for r in rows
            if step.start_ms <= int(r[0]) * 1000 < step.end_ms and int(r[0]) * 1000 + self.step <= now and int(r[7]) > 0
        ]  # no bar in progress, no empty bar
        if not keep:
            return
        frame = pl.DataFrame(
            {
                "time": [int(r[0]) * 1000 for r in keep],
                **{
                    name: [float(r[i]) for r in keep]
                    for name, i in (("open", 1), ("high", 2), ("low", 3), ("close", 4), ("volume", 6))
                },
                "trades": [int(r[7]) for r in keep],
            }
        )
        lake.write(self.exchange, self.params.symbol, self.params.timeframe, frame, "rest")
        counts["rest_candles"] = counts.get("rest_candles", 0) + frame.height
        self._note(result, first=int(frame["time"][0]), last=int(frame["time"][-1]), rows=frame.height)
        progress.update(step.end_ms, rows=frame.height)

    def _run_trades(
        self,
        lake: Lake,
        step: PlanStep,
        cursor_text: str | None,
        result: FetchResult,
        counts: dict[str, Any],
        progress: Progress,
        save: Any,
    ) -> None:
        from tradecore_kraken.trades_backfill import TradesCursor, backfill_trades

        cursor = TradesCursor.loads(cursor_text)
        if cursor is not None and not (step.start_ms <= cursor.window_start < step.end_ms):
            cursor = None

        def persist(state: TradesCursor, stats: Any) -> None:
            counts.update(trades=stats.trades, pages=stats.pages, windows=stats.windows, trade_candles=stats.candles)
            save(state.dumps(), state.window_start)

        def on_progress(reached: int, candles: int) -> None:
            progress.update(reached, rows=candles)

        stats = backfill_trades(
            self.api,
            lake,
            exchange=self.exchange,
            symbol=self.params.symbol,
            pair_id=self.pair_id(),
            timeframe=self.params.timeframe,
            start_ms=step.start_ms,
            end_ms=step.end_ms,
            now_ms=self.now_ms(),
            cursor=cursor,
            save=persist,
            on_progress=on_progress,
        )
        if stats.windows:
            self._note(result, first=step.start_ms, last=stats.reached_ms - self.step, rows=stats.candles)

    # ---- DataSource ---------------------------------------------------------------------------

    def load(self, ctx: RunContext) -> pl.DataFrame:
        """Candles for the run, fetching into the lake first what it does not hold yet."""
        from tradecore.api import JobStore, Lake

        p = self.params
        lake = Lake(p.lake or ctx.lake_root)
        start, end = to_ms(p.start), to_ms(p.end)
        last = lake.last_time(self.exchange, p.symbol, p.timeframe)
        if last is None or end is None or last + self.step < end - self.step:
            jobs = JobStore(lake.root)
            job = jobs.create("fetch", {"source": "kraken", "params": p.model_dump(mode="json")})
            jobs.update(job.id, status="running")
            try:
                with Progress(
                    start or 0,
                    end or int(time.time() * 1000),
                    f"kraken {p.symbol} {p.timeframe}",
                    enabled=ctx.progress,
                    step_ms=self.step,
                ) as progress:
                    outcome = self.fetch(lake, jobs, job, progress)
            except Unreachable as exc:  # offline: say what the lake holds and how to fill it, no retry storm
                from tradecore_kraken.offline import offline_advice

                jobs.update(job.id, status="failed", error=str(exc)[:500])
                wanted_end = end if end is not None else int(time.time() * 1000)
                from tradecore_kraken.planner import rest_reach

                fallback = last + self.step if last is not None else rest_reach(p.timeframe, wanted_end)
                wanted_start = start if start is not None else fallback
                raise KrakenError(
                    offline_advice(lake, p.symbol, p.timeframe, wanted_start, wanted_end, str(exc))
                ) from None
            except BaseException as exc:
                jobs.update(job.id, status="failed", error=str(exc)[:500])
                raise
            jobs.update(job.id, status="done", progress=1.0, counts=outcome.counts)
        frame = lake.read(self.exchange, p.symbol, p.timeframe, start, end)
        if frame.height == 0:
            raise KrakenError(f"no {p.symbol} {p.timeframe} candles in the lake {lake.root} for the requested range")
        return frame  # with ``origin``: the run's quality check tells "no trades" holes by it, not by rate

    def trade_stream(self, symbols: Sequence[str]) -> TradeStream:
        """Live trades of ``symbols`` over one ccxt.pro websocket (``ws_url``/``api_url`` repoint it)."""
        from tradecore_kraken.ws_stream import CcxtTradeStream

        return CcxtTradeStream("kraken", self.params, symbols)

    def describe(self) -> dict[str, Any]:
        p = self.params
        return {
            "exchange": self.exchange,
            "pair": p.symbol,
            "timeframe": p.timeframe,
            "start": p.start.isoformat() if p.start else None,
            "end": p.end.isoformat() if p.end else None,
        }
