"""Helpers the streaming tests share: the series a loopback published, a stream run in-process, lake checks."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import numpy as np
import polars as pl
from tradecore_kraken.params import KrakenParams
from tradecore_kraken.source import KrakenSource
from tradecore_kraken.ws_loopback import KrakenWsLoopback

from tradecore.api import JobStore, Lake, StreamRunner, StreamSettings, candles_from_trades

STEP = 60_000


def published(server: KrakenWsLoopback, pid: str, until_s: int) -> pl.DataFrame:
    """The 1m candles of every trade the server published before ``until_s``, by the trades kernel."""
    tape = server.rest.tapes[pid]
    n = int(np.searchsorted(tape.time_ns, until_s * 1_000_000_000, side="left"))
    return candles_from_trades(tape.time_ns[:n] // 1_000_000, tape.price[:n], tape.volume[:n], STEP)


def assert_lake_equals(lake: Lake, server: KrakenWsLoopback, until_s: int) -> None:
    """Every closed candle the server published is stored once, with the published values; nothing else."""
    for symbol, pid in server.symbols.items():
        want = published(server, pid, until_s)
        got = lake.read("kraken", symbol, "1m")
        times = got["time"].dt.epoch("ms")
        assert times.is_unique().all(), f"{symbol}: a candle is stored twice"
        got = got.filter(times < until_s * 1000)
        assert got["time"].dt.epoch("ms").to_list() == want["time"].to_list(), f"{symbol}: open times differ"
        for column in ("open", "high", "low", "close"):
            assert got[column].to_list() == want[column].to_list(), f"{symbol}: {column} differs"
        np.testing.assert_allclose(got["volume"].to_numpy(), want["volume"].to_numpy(), rtol=1e-9, atol=1e-8)
        assert got["trades"].to_list() == want["trades"].to_list(), f"{symbol}: trade counts differ"


def kraken_unit(server: KrakenWsLoopback, lake: Lake):
    """The catch-up unit builder the CLI would make, for the loopback (no rate limit, short timeouts)."""

    def unit(symbol: str, start_ms: int | None = None, end_ms: int | None = None) -> KrakenSource:
        params = dict(
            symbol=symbol,
            timeframe="1m",
            rate_limit=False,
            api_url=server.rest.url,
            ws_url=server.ws_url,
            backoff_s=0.0,
            timeout_ms=2000,
            lake=str(lake.root),
        )
        if start_ms is not None:
            params["start"] = datetime.fromtimestamp(start_ms / 1000, UTC)
        if end_ms is not None:
            params["end"] = datetime.fromtimestamp(end_ms / 1000, UTC)
        return KrakenSource(KrakenParams(**params))

    return unit


async def wait_for(condition, timeout_s: float, what: str, server: KrakenWsLoopback | None = None) -> None:
    """Poll ``condition``; with ``server``, its clock keeps moving meanwhile (the market does not stop, and a
    stream that joined late needs the bucket it joined in to close before it catches up)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        if server is not None and server.played:
            server.play_until(server.clock_ns // 1_000_000_000 + 10)
        await asyncio.sleep(0.02)


def stream_and_play(server: KrakenWsLoopback, lake: Lake, minutes: int, timeout_s: float = 30.0, **settings):
    """Run the stream in-process while the server plays ``minutes`` and on; stop once the lake holds every
    candle that closed in those minutes (or the timeout passes); return (runner, until_s)."""
    unit = kraken_unit(server, lake)
    symbols = sorted(server.symbols)
    jobs = JobStore(lake.root)
    job = jobs.create("stream", {"label": "test"})
    options = dict(stale_after_s=0.6, close_grace_ms=300, backoff_s=0.02, backoff_cap_s=0.2, status_every_s=0.2)
    options.update(settings)
    runner = StreamRunner(unit(symbols[0]), StreamSettings("kraken", symbols, "1m", **options), lake, jobs, job, unit)
    until_s = server.rest.start_s + minutes * 60
    expected = {s: published(server, server.symbols[s], until_s).height for s in symbols}

    def complete() -> bool:
        return all(lake.read("kraken", s, "1m", end=until_s * 1000).height >= expected[s] for s in symbols) and not (
            runner.fetching or runner.pending
        )

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.ensure_future(runner.run(stop))
        try:
            await wait_for(lambda: runner.connections > 0, 10, "the first connection")
            server.play_until(until_s)
            await wait_for(lambda: server.played, timeout_s, "the server to publish")
            await wait_for(complete, timeout_s, "every closed candle in the lake", server)
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)

    asyncio.run(main())
    return runner, until_s
