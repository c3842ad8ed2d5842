"""The stream a live paper session starts for its series: ``tradecore data stream``'s runner in a thread.

A thread, not a child process: the session and its stream live and die together (kill -9 takes both, so no
orphaned stream keeps writing; Ctrl-C reaches the main thread, which stops the stream and waits for its writes),
and the session reads the stream's exchange clock directly. The stream's work is mostly I/O and Parquet
writes in its own pool; the session's decisions stay far below the candle length. The session still reads
candles from the lake, as one following a separate ``data stream`` does, so both modes decide on exactly the
stored candles (and a replay of them gives the same ledger).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from tradecore.errors import TradecoreError

if TYPE_CHECKING:
    from tradecore.data.stream import StreamRunner


class BackgroundStream:
    """Runs ``runner`` on an event loop of its own in a daemon thread until :meth:`stop`."""

    def __init__(self, runner: StreamRunner) -> None:
        self.runner = runner
        self.error: BaseException | None = None
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True, name="paper-stream")

    def start(self) -> BackgroundStream:
        self._thread.start()
        self._started.wait()
        return self

    def _main(self) -> None:
        async def run() -> None:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            self._started.set()
            await self.runner.run(self._stop)

        try:
            asyncio.run(run())
        except BaseException as exc:  # handed to the session, which stops and reports it
            self.error = exc
        finally:
            self._started.set()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def clock_ms(self) -> int:
        """The exchange clock as the stream sees it (wall time until it has connected)."""
        return self.runner.clock_ms() or int(time.time() * 1000)

    def caught_up(self, symbol: str) -> bool:
        """True once the first catch-up of ``symbol`` (the hole since the stored candles, or the warm-up history
        of an empty lake) has finished, filled or not."""
        r = self.runner
        return r.counts["catch_up_jobs"] > 0 and symbol not in r.fetching and symbol not in r.pending

    def wait_caught_up(self, symbol: str, stop: Callable[[], bool], timeout_s: float) -> bool:
        """Wait for :meth:`caught_up`; False when ``stop`` came first. A stream that failed, a catch-up that
        could not fill the hole, or no catch-up within ``timeout_s`` is a one-line error."""
        deadline = time.monotonic() + timeout_s
        while not self.caught_up(symbol):
            if stop():
                return False
            self.check()
            if time.monotonic() > deadline:
                raise TradecoreError(
                    f"the stream caught up no {symbol} candles within {timeout_s:g} s "
                    f"(stream job {self.runner.job.id}: `tradecore data jobs` shows why)"
                )
            time.sleep(0.02)
        unfilled = self.runner.unfilled.get(symbol)
        if unfilled is not None:
            raise TradecoreError(
                f"the stream could not fetch the {symbol} candles from {unfilled['start']} to {unfilled['end']} "
                f"for the warm-up: {unfilled['error']}"
            )
        return True

    def check(self) -> None:
        """Raise when the stream stopped on its own (it only stops when asked, or on an error)."""
        if not self.alive and not self._stopping:
            if self.error is not None:
                raise TradecoreError(f"the stream stopped: {self.error}") from self.error
            raise TradecoreError("the stream stopped")

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the stream to stop (the open candle is not written), wait for its writes, and close its job."""
        self._stopping = True
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._stop.set)
            except RuntimeError:  # the loop closed in between: the stream already ended
                pass
        self._thread.join(timeout_s)
        jobs, job = self.runner.jobs, self.runner.job
        if self.error is not None and not isinstance(self.error, KeyboardInterrupt):
            from tradecore.plugins import one_line

            jobs.update(job.id, status="failed", error=one_line(self.error))
        else:
            jobs.update(job.id, status="interrupted", message="stopped with its paper session; open candle not written")
