"""The generic ``ccxt`` source: any exchange whose ``fetch_ohlcv`` pages forward by ``since``.

Each page is upserted into the lake (candles are keyed by open time, so a rerun never duplicates)
and the job cursor (the next ``since``, epoch ms) is saved after it. The bar still in progress is
never stored; a page that does not move ``since`` forward is an error, not a loop.
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
from tradecore_kraken.errors import KrakenError, OutOfReach
from tradecore_kraken.params import CcxtParams
from tradecore_kraken.source import to_ms

if TYPE_CHECKING:
    from collections.abc import Sequence

    import polars as pl

    from tradecore.api import Job, JobStore, Lake, TradeStream


class CcxtSource(FetchingSource, StreamingSource):
    """OHLCV from a ccxt exchange into the lake, under the exchange's own name."""

    def __init__(self, params: CcxtParams) -> None:
        self.params = params
        self.exchange = params.exchange
        self.step = timeframe_ms(params.timeframe)
        self._client: Any = None
        self._policy: Any = None
        self.requests = 0

    def client(self) -> Any:
        if self._client is None:
            from tradecore_kraken.client import RetryPolicy, load_markets, make_exchange, market_for

            p = self.params
            self._client = make_exchange(
                p.exchange,
                rate_limit=p.rate_limit,
                rate_limit_ms=p.rate_limit_ms,
                api_url=p.api_url,
                timeout_ms=p.timeout_ms,
                options=p.options,
            )
            self._policy = RetryPolicy(max_retries=p.max_retries, base_s=p.backoff_s)
            if not self._client.has.get("fetchOHLCV"):
                raise OutOfReach(f"{p.exchange} has no OHLCV endpoint in ccxt; pick another exchange")
            timeframes = self._client.timeframes or {}
            if timeframes and p.timeframe not in timeframes:
                raise KrakenError(f"{p.exchange} has no {p.timeframe!r} bars: use one of {', '.join(timeframes)}")
            load_markets(self._client, self._policy)
            market_for(self._client, p.symbol)
        return self._client

    def _range(self, lake: Lake, now_ms: int) -> tuple[int, int]:
        p = self.params
        start = to_ms(p.start)
        if start is None:
            last = lake.last_time(self.exchange, p.symbol, p.timeframe)
            if last is None:
                raise KrakenError(
                    f"source.params.start: nothing is stored yet for {p.exchange} {p.symbol} "
                    f"{p.timeframe}; give a start date, e.g. 2024-01-01"
                )
            start = last + self.step
        end = min(to_ms(p.end) or now_ms, now_ms - now_ms % self.step)
        return start - start % self.step, -(-end // self.step) * self.step

    def plan(self, lake: Lake) -> list[PlanStep]:
        start, end = self._range(lake, int(time.time() * 1000))
        if start >= end:
            return []
        pages = -(-(end - start) // (self.step * self.params.page_limit))
        return [
            PlanStep(
                "ccxt",
                start,
                end,
                f"{self.params.exchange} fetch_ohlcv paged by since",
                {"requests": pages, "rows_max": (end - start) // self.step},
            )
        ]

    def fetch(self, lake: Lake, jobs: JobStore, job: Job, progress: Progress) -> FetchResult:
        import polars as pl

        p = self.params
        client = self.client()
        now = self._policy.call(f"{p.exchange} time", client.milliseconds)
        start, end = self._range(lake, now)
        result = FetchResult()
        since = start
        if job.cursor:
            try:
                since = max(start, int(json.loads(job.cursor)["since"]))
            except (ValueError, KeyError, TypeError):
                pass
        closed_until = now - now % self.step
        previous_full = False
        while since < end:
            raw = (
                self._policy.call(
                    f"{p.exchange} fetch_ohlcv {p.symbol} {p.timeframe}",
                    lambda s=since: client.fetch_ohlcv(p.symbol, p.timeframe, since=s, limit=p.page_limit),
                )
                or []
            )
            self.requests += 1
            rows = [r for r in raw if since <= r[0] < end and r[0] + self.step <= closed_until]
            if not rows:
                # ccxt drops bars older than ``since``, so a repeated page arrives empty: after a full
                # page, with closed bars still due, that is a stalled cursor, not the end of history
                if previous_full and since + self.step <= min(end, closed_until):
                    raise KrakenError(
                        f"{p.exchange} fetch_ohlcv stopped advancing at since={since}; "
                        f"resume with 'tradecore data fetch --resume {job.id}'"
                    )
                break  # nothing newer: the exchange has no bars after ``since``
            previous_full = len(raw) >= p.page_limit
            frame = pl.DataFrame(
                {
                    "time": [int(r[0]) for r in rows],
                    **{
                        c: [float(r[i]) if r[i] is not None else None for r in rows]
                        for c, i in (("open", 1), ("high", 2), ("low", 3), ("close", 4), ("volume", 5))
                    },
                }
            )
            lake.write(self.exchange, p.symbol, p.timeframe, frame, "ccxt")
            next_since = int(rows[-1][0]) + self.step
            if next_since <= since:
                raise KrakenError(f"{p.exchange} fetch_ohlcv stopped advancing at since={since}")
            since = next_since
            result.rows += frame.height
            result.first_ms = result.first_ms if result.first_ms is not None else int(rows[0][0])
            result.last_ms = int(rows[-1][0])
            jobs.update(
                job.id,
                cursor=json.dumps({"method": "ccxt", "since": since}),
                progress=round(min(1.0, (since - start) / max(1, end - start)), 4),
                counts={"candles": result.rows, "requests": self.requests},
            )
            progress.update(since, rows=frame.height)
        result.requests = self.requests
        result.counts = {
            "candles": result.rows,
            "requests": self.requests,
            **({"retries": dict(self._policy.retries)} if self._policy.retries else {}),
        }
        return result

    def load(self, ctx: RunContext) -> pl.DataFrame:
        from tradecore.api import JobStore, Lake

        p = self.params
        lake = Lake(p.lake or ctx.lake_root)
        jobs = JobStore(lake.root)
        job = jobs.create("fetch", {"source": "ccxt", "params": p.model_dump(mode="json")})
        with Progress(
            to_ms(p.start) or 0,
            to_ms(p.end) or int(time.time() * 1000),
            f"{p.exchange} {p.symbol}",
            enabled=ctx.progress,
            step_ms=self.step,
        ) as progress:
            outcome = self.fetch(lake, jobs, job, progress)
        jobs.update(job.id, status="done", progress=1.0, counts=outcome.counts)
        frame = lake.read(self.exchange, p.symbol, p.timeframe, to_ms(p.start), to_ms(p.end))
        if frame.height == 0:
            raise KrakenError(f"no {p.exchange} {p.symbol} {p.timeframe} candles for the requested range")
        return frame  # with ``origin``: the run's quality check tells "no trades" holes by it, not by rate

    def trade_stream(self, symbols: Sequence[str]) -> TradeStream:
        """Live trades of ``symbols`` over one ccxt.pro websocket (``ws_url``/``api_url`` repoint it)."""
        from tradecore_kraken.ws_stream import CcxtTradeStream

        return CcxtTradeStream(self.params.exchange, self.params, symbols, options=self.params.options)

    def describe(self) -> dict[str, Any]:
        p = self.params
        return {
            "exchange": p.exchange,
            "pair": p.symbol,
            "timeframe": p.timeframe,
            "start": p.start.isoformat() if p.start else None,
            "end": p.end.isoformat() if p.end else None,
        }
