"""The live stream loop behind ``tradecore data stream``: trades of many symbols over one connection of a
:class:`~tradecore.data.streaming.StreamingSource`, closed candles into the lake (origin ``stream``), holes
filled through the source's own fetch path. It knows no exchange.

Per connection:

1. ``open()`` subscribes and gives the exchange clock ``T``. This connection vouches for trades from the
   bucket after ``T``'s bucket on (``floor``); the bucket holding ``T`` started before the subscription.
2. Each symbol's catch-up range runs from the first bucket the lake may not hold final (after the last
   stored candle on start, the oldest open or retained bucket after a drop) up to ``floor``. It is
   fetched as a ``fetch`` job once the clock has passed ``floor``, in a worker thread, while the stream
   goes on. A range that fails stays pending (retried after the next connect) and is recorded in the job
   and as an unfillable hole verdict with the reason (``data gaps`` shows it).
3. Candles close when a later trade of the symbol arrives or the clock passes their end plus a grace;
   the clock is the newest trade time seen, advanced by wall time between messages. Each write replaces
   the window since the previous one, so the empty buckets between are on record as having no trades.

A silent connection (no trade, heartbeat or pong for ``stale_after_s``) is dropped and reopened, with
capped exponential back-off and full jitter. Stopping (Ctrl-C, SIGTERM) closes the connection, finishes
the writes under way and never writes the open candle.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tradecore.data.lake import iso_ms
from tradecore.data.stream_candles import Closing, PairCandles
from tradecore.data.streaming import StreamingSource, StreamLost, TradeBatch
from tradecore.timeframes import timeframe_ms

if TYPE_CHECKING:
    from tradecore.data.fetching import FetchingSource
    from tradecore.data.jobs import Job, JobStore
    from tradecore.data.lake import Lake

ORIGIN = "stream"

#: builds the fetch unit that fills [start_ms, end_ms) of one symbol (start None: the source's default)
CatchUpUnit = Callable[[str, "int | None", int], "FetchingSource"]


@dataclass
class StreamSettings:
    """What to stream and how patiently."""

    exchange: str
    symbols: Sequence[str]
    timeframe: str
    #: drop and reopen a connection silent for this long
    stale_after_s: float = 10.0
    #: reconnect back-off: uniform(0, min(cap, base * 2**attempt))
    backoff_s: float = 0.5
    backoff_cap_s: float = 30.0
    #: the clock closes a quiet bucket this long after its end (a later trade closes it at once)
    close_grace_ms: int = 2000
    #: closed buckets kept in memory for late trades
    retain: int = 2
    #: how often the job store gets the stream's status
    status_every_s: float = 2.0
    #: how often the clock is checked between messages
    tick_s: float = 0.1
    #: where a symbol with nothing stored starts its catch-up (None: only the bucket the stream joined in)
    start_ms: int | None = None
    #: without ``start_ms``, where a symbol with nothing stored starts its catch-up: this many buckets before the
    #: one the stream joined in (``tradecore paper`` asks for its features' warm-up; the exchange clock is known
    #: only once connected, so a count of buckets, not a time)
    history_bars: int = 0
    open_timeout_s: float = 30.0
    seed: int | None = None


@dataclass
class _Pending:
    start: int | None
    end: int


class StreamRunner:
    """Runs one stream until ``stop`` is set; see the module doc. Status goes to ``job`` in ``jobs``."""

    def __init__(
        self,
        source: StreamingSource,
        settings: StreamSettings,
        lake: Lake,
        jobs: JobStore,
        job: Job,
        catch_up: CatchUpUnit,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.source, self.settings, self.lake, self.jobs, self.job = source, settings, lake, jobs, job
        self.catch_up_unit = catch_up
        self.echo = echo or (lambda _text: None)
        self.step = timeframe_ms(settings.timeframe)
        self.pairs = {s: PairCandles(self.step, settings.retain) for s in settings.symbols}
        self.pending: dict[str, _Pending] = {}
        self.failed: dict[str, _Pending] = {}  # catch-ups that failed: retried after the next connect, not at once
        self.fetching: dict[str, asyncio.Future[Any]] = {}
        self.unfilled: dict[str, dict[str, Any]] = {}
        self.last_candle: dict[str, int] = {}
        self.counts = {"candles": 0, "trades": 0, "duplicates": 0, "late_rewrites": 0, "repairs": 0}
        self.counts |= {"reconnects": 0, "catch_up_rows": 0, "catch_up_jobs": 0}
        self.connections = 0
        self._rng = random.Random(settings.seed)
        self._clock_ms: int | None = None
        self._clock_wall = 0.0
        self._status_at = 0.0
        # writers: twice the cores at most. A one-row write is mostly CPU (Parquet merge and encoding, much of it
        # under the GIL; its two fsyncs take ~0.3 ms each here): every symbol's candle closes at the same minute
        # boundary, and 20 threads sharing 2 cores made every write of that burst finish late (bench/stream.py,
        # 20 pairs: p99 118-132 ms with 20 writers, 87-92 ms with 2-4). One symbol's writes still run in order.
        writers = min(len(settings.symbols), 2 * (os.cpu_count() or 1), 32)
        self._pool = ThreadPoolExecutor(max_workers=writers, thread_name_prefix="stream-write")
        self._writes: dict[str, asyncio.Future[Any]] = {}

    # ---- the loop --------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, catch up, stream; reconnect on loss; return when ``stop`` is set."""
        from tradecore.owner import current_owner

        # owned by this process: a later start or listing marks it interrupted once the process is gone (kill -9)
        self.jobs.update(self.job.id, status="running", error=None, counts=self._status(), owner=current_owner())
        attempt = 0
        try:
            while not stop.is_set():
                stream = self.source.trade_stream(list(self.settings.symbols))
                try:
                    opened = await _until_stop(stop, stream.open(), self.settings.open_timeout_s)
                    if opened is not None:
                        self._connected(int(opened))
                        attempt = 0
                        await self._pump(stream, stop)
                except StreamLost as exc:
                    self._note(f"connection lost: {exc}")
                finally:
                    await _quietly(stream.close())
                if stop.is_set():
                    break
                delay = self._rng.uniform(0, min(self.settings.backoff_cap_s, self.settings.backoff_s * 2**attempt))
                attempt += 1
                await _sleep_or_stop(stop, delay)
        finally:
            await self._drain_writes()
            self._pool.shutdown(wait=True)
            self._status_now()

    def _connected(self, clock_ms: int) -> None:
        self.connections += 1
        self.counts["reconnects"] = self.connections - 1
        self._set_clock(clock_ms)
        floor = clock_ms - clock_ms % self.step + self.step
        for symbol, pair in self.pairs.items():
            resume = pair.resume_ms() if pair.floor is not None else self._stored_resume(symbol, floor)
            start = resume
            for old in (self.pending.get(symbol), self.failed.pop(symbol, None)):
                start = start if old is None else _earliest(old.start, start)
            self.pending[symbol] = _Pending(start, floor)
            pair.restart(floor)
        self._note(f"connected (#{self.connections}), streaming from {iso_ms(floor)}")
        self._status_now()

    def _stored_resume(self, symbol: str, floor: int) -> int | None:
        """Where the first catch-up starts: the last stored candles again (the last may have closed on the
        clock before a late trade), else the configured start, else the bucket the stream joined in (and
        ``history_bars`` before it)."""
        last = self.lake.last_time(self.settings.exchange, symbol, self.settings.timeframe)
        if last is not None:
            return min(last - (self.settings.retain - 1) * self.step, floor - self.step)
        if self.settings.start_ms is not None:
            return self.settings.start_ms
        return floor - (1 + self.settings.history_bars) * self.step

    async def _pump(self, stream: Any, stop: asyncio.Event) -> None:
        alive = time.monotonic()
        receiving: asyncio.Future[Any] | None = None
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                receiving = receiving or asyncio.ensure_future(stream.receive())
                done, _ = await asyncio.wait(
                    {receiving, stopping}, timeout=self.settings.tick_s, return_when="FIRST_COMPLETED"
                )
                if receiving in done:
                    item, receiving = receiving.result(), None  # re-raises StreamLost
                    silent = time.monotonic() - alive
                    if silent > self.settings.stale_after_s:
                        # frames lost in a silence this long would make the next trade vouch for an empty
                        # stretch that was not empty: reconnect, and the catch-up fills it
                        raise StreamLost(f"silent for {silent:.1f} s (stale stream)")
                    alive = time.monotonic()
                    if item is not None:
                        self._take(item)
                elif time.monotonic() - alive > self.settings.stale_after_s:
                    raise StreamLost(f"no message for {self.settings.stale_after_s:g} s (stale stream)")
                self._tick()
        finally:
            stopping.cancel()
            if receiving is not None:
                receiving.cancel()

    # ---- trades to candles -----------------------------------------------------------------------

    def _take(self, batch: TradeBatch) -> None:
        pair = self.pairs.get(batch.symbol)
        if pair is None or not len(batch):
            return
        self.counts["trades"] += len(batch)
        newest = int(batch.time_ms.max())
        if self._clock_ms is None or newest > self.clock_ms():
            self._set_clock(newest)
        self._apply(batch.symbol, pair.add(batch.seq, batch.time_ms, batch.price, batch.volume))

    def _tick(self) -> None:
        now = self.clock_ms()
        due = now - self.settings.close_grace_ms
        for symbol, pair in self.pairs.items():
            self._apply(symbol, pair.close_until(due))
        for symbol, pending in list(self.pending.items()):
            if symbol not in self.fetching and pending.end <= due:
                self._start_catch_up(symbol, self.pending.pop(symbol))
        if time.monotonic() - self._status_at >= self.settings.status_every_s:
            self._status_now()

    def _apply(self, symbol: str, closing: Closing) -> None:
        self.counts["duplicates"] += closing.duplicates
        if closing.candles is not None:
            self._write(symbol, closing.candles, closing.window)
            self.counts["candles"] += closing.candles.height
            self.last_candle[symbol] = int(closing.candles["time"][-1])
        if closing.rewrites is not None:
            self.counts["late_rewrites"] += closing.rewrites.height
            self._write(symbol, closing.rewrites, None)
        for bucket in closing.repairs:
            self.counts["repairs"] += 1
            old = self.pending.get(symbol)
            self.pending[symbol] = _Pending(
                _earliest(old.start if old else None, bucket), max(old.end if old else 0, bucket + self.step)
            )

    def _write(self, symbol: str, frame: Any, window: tuple[int, int] | None) -> None:
        """Queue a write of ``symbol``; one symbol's writes run in order, symbols in parallel."""
        ex, tf = self.settings.exchange, self.settings.timeframe

        def write() -> None:
            if window is None:
                self.lake.write(ex, symbol, tf, frame, ORIGIN)
            else:
                self.lake.replace_window(ex, symbol, tf, window[0], window[1], frame, ORIGIN)

        previous = self._writes.get(symbol)
        loop = asyncio.get_running_loop()

        async def chained() -> None:
            if previous is not None:
                await asyncio.shield(previous)
            await loop.run_in_executor(self._pool, write)

        self._writes[symbol] = asyncio.ensure_future(chained())

    async def _drain_writes(self) -> None:
        if self._writes:
            await asyncio.gather(*self._writes.values(), return_exceptions=False)

    # ---- catch-up through the fetch path -----------------------------------------------------------

    def _start_catch_up(self, symbol: str, pending: _Pending) -> None:
        from tradecore.data.fetching import Progress, run_fetch_job

        if pending.start is not None and pending.start >= pending.end:
            return
        label = f"{self.settings.exchange} {symbol} {self.settings.timeframe} catch-up for stream job {self.job.id}"
        request = {
            "label": label,
            "stream_job": self.job.id,
            "start_ms": pending.start,
            "end_ms": pending.end,
        }

        job = self.jobs.create("fetch", request)

        def work() -> Any:
            unit = self.catch_up_unit(symbol, pending.start, pending.end)
            return run_fetch_job(unit, self.lake, self.jobs, job, Progress(0, 1, enabled=False))

        future = _in_daemon_thread(work)
        self.fetching[symbol] = future
        self.counts["catch_up_jobs"] += 1

        def finished(done: asyncio.Future[Any]) -> None:
            self.fetching.pop(symbol, None)
            if done.cancelled():
                return
            error = done.exception()
            if error is None:
                self.counts["catch_up_rows"] += done.result().rows
                self.unfilled.pop(symbol, None)
                return
            from tradecore.plugins import one_line

            old = self.failed.get(symbol)
            self.failed[symbol] = _Pending(
                _earliest(pending.start, old.start if old else pending.start), max(pending.end, old.end if old else 0)
            )
            self.unfilled[symbol] = {
                "start": iso_ms(pending.start) if pending.start is not None else None,
                "end": iso_ms(pending.end),
                "error": one_line(error)[:300],
            }
            hole = self.unfilled[symbol]
            self._note(f"{symbol}: hole {hole['start']} .. {hole['end']} not filled: {hole['error']}")
            if pending.start is not None:
                self._record_unfillable(symbol, pending.start, pending.end, hole["error"], job.id)

        future.add_done_callback(finished)

    def _record_unfillable(self, symbol: str, start: int, end: int, error: str, job_id: int) -> None:
        """The hole goes into the lake's verdicts too, so ``data gaps`` names it unfillable and says why (the
        stream still retries it after the next connect; once filled, no hole is left for the verdict)."""
        from tradecore.data.hole_verdicts import UNFILLABLE, HoleVerdicts

        reason = f"stream catch-up failed (fetch job {job_id}, stream job {self.job.id}): {error}"
        HoleVerdicts(self.lake.root).record(
            self.settings.exchange, symbol, self.settings.timeframe, [(start, end)], UNFILLABLE, reason, job_id
        )

    # ---- clock and status --------------------------------------------------------------------------

    def clock_ms(self) -> int:
        """The exchange clock: the newest time seen, advanced by the wall time since."""
        if self._clock_ms is None:
            return 0
        return self._clock_ms + int((time.monotonic() - self._clock_wall) * 1000)

    def _set_clock(self, exchange_ms: int) -> None:
        self._clock_ms, self._clock_wall = exchange_ms, time.monotonic()

    def _note(self, text: str) -> None:
        self.echo(text)
        self.jobs.update(self.job.id, message=text)

    def _status(self) -> dict[str, Any]:
        now = self.clock_ms()
        return {
            **self.counts,
            "rows": self.counts["candles"],
            "pid": os.getpid(),
            "connected": bool(self.connections),
            "clock": iso_ms(now) if now else None,
            "last_candle": {s: iso_ms(t) for s, t in self.last_candle.items()},
            "lag_s": {s: round(max(0, now - t - self.step) / 1000, 3) for s, t in self.last_candle.items()}
            if now
            else {},
            "unfilled": dict(self.unfilled),
        }

    def _status_now(self) -> None:
        self._status_at = time.monotonic()
        self.jobs.update(self.job.id, counts=self._status())


def _earliest(a: int | None, b: int | None) -> int | None:
    """The earlier start; None (the source's own default start) wins."""
    if a is None or b is None:
        return None
    return min(a, b)


async def _until_stop(stop: asyncio.Event, work: Any, timeout_s: float) -> Any:
    """``await work`` unless ``stop`` comes first (then None); a timeout is a lost connection."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        done, _ = await asyncio.wait({task, stopping}, timeout=timeout_s, return_when="FIRST_COMPLETED")
        if task in done:
            return task.result()
        if stopping in done:
            return None
        raise StreamLost(f"no subscription within {timeout_s:g} s")
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


async def _quietly(work: Any) -> None:
    try:
        await asyncio.wait_for(work, timeout=5)
    except Exception:  # a connection that is already gone cannot be closed twice
        pass


def _in_daemon_thread(fn: Callable[[], Any]) -> asyncio.Future[Any]:
    """``fn()`` in a daemon thread (a catch-up stuck in retries never holds up the exit) as a future."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)

    def work() -> None:
        try:
            result = fn()
        except BaseException as exc:  # handed to the loop, which records it
            if not loop.is_closed():
                loop.call_soon_threadsafe(settle, None, exc)
            return
        if not loop.is_closed():
            loop.call_soon_threadsafe(settle, result, None)

    threading.Thread(target=work, daemon=True, name="stream-catch-up").start()
    return future
