"""The generic ``ccxt`` source streams from a second exchange: the real ``ccxt.pro.okx`` against a loopback
speaking OKX's public v5 websocket (and the REST candles its catch-up pages through). After a dropped
connection and a silent stall the lake equals the closed candles the server published, each stored once."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import numpy as np
import pytest
from okx_loopback import OkxLoopback
from tradecore_kraken.ccxt_source import CcxtSource
from tradecore_kraken.params import CcxtParams
from tradecore_kraken.ws_loopback import WsFaults

from tradecore.api import JobStore, Lake, StreamRunner, StreamSettings, candles_from_trades

STEP = 60_000
MINUTES = 12


def okx_unit(server: OkxLoopback, lake: Lake, **overrides):
    """The catch-up unit builder ``data stream --source ccxt --param exchange=okx`` makes, for the loopback."""

    def unit(symbol: str, start_ms: int | None = None, end_ms: int | None = None) -> CcxtSource:
        params = dict(
            exchange="okx",
            symbol=symbol,
            timeframe="1m",
            rate_limit=False,
            api_url=server.url,
            ws_url=server.ws_url,
            backoff_s=0.0,
            timeout_ms=2000,
            lake=str(lake.root),
            **overrides,
        )
        if start_ms is not None:
            params["start"] = datetime.fromtimestamp(start_ms / 1000, UTC)
        if end_ms is not None:
            params["end"] = datetime.fromtimestamp(end_ms / 1000, UTC)
        return CcxtSource(CcxtParams(**params))

    return unit


def stream_and_play(server: OkxLoopback, lake: Lake, minutes: int, timeout_s: float = 30.0) -> tuple[StreamRunner, int]:
    """Stream in-process while the server plays ``minutes``; stop once every candle closed in them is stored."""
    unit = okx_unit(server, lake)
    symbols = sorted(server.symbols)
    jobs = JobStore(lake.root)
    job = jobs.create("stream", {"label": "okx test"})
    settings = StreamSettings(
        "okx", symbols, "1m", stale_after_s=0.6, close_grace_ms=300, backoff_s=0.02, backoff_cap_s=0.2
    )
    runner = StreamRunner(unit(symbols[0]), settings, lake, jobs, job, unit)
    until_ms = (server.start_s + minutes * 60) * 1000
    expected = {s: published(server, s, until_ms).height for s in symbols}

    def complete() -> bool:
        stored = all(lake.read("okx", s, "1m", end=until_ms).height >= expected[s] for s in symbols)
        return stored and not (runner.fetching or runner.pending)

    async def wait(condition, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            assert time.monotonic() < deadline, f"timed out after {timeout_s} s waiting for {what}"
            if server.played:  # the market goes on, so the bucket the stream is in closes
                server.play_until(server.clock_ms // 1000 + 10)
            await asyncio.sleep(0.02)

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.ensure_future(runner.run(stop))
        try:
            await wait(lambda: runner.connections > 0, "the first connection")
            server.play_until(until_ms // 1000)
            await wait(complete, "every closed candle in the lake")
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)

    asyncio.run(main())
    return runner, until_ms


def published(server: OkxLoopback, symbol: str, until_ms: int):
    return candles_from_trades(*server.published(server.symbols[symbol], until_ms), STEP)


def assert_lake_equals(lake: Lake, server: OkxLoopback, until_ms: int) -> None:
    for symbol in server.symbols:
        want = published(server, symbol, until_ms)
        got = lake.read("okx", symbol, "1m")
        times = got["time"].dt.epoch("ms")
        assert times.is_unique().all(), f"{symbol}: a candle is stored twice"
        got = got.filter(times < until_ms)
        assert got["time"].dt.epoch("ms").to_list() == want["time"].to_list(), f"{symbol}: open times differ"
        for column in ("open", "high", "low", "close"):
            assert got[column].to_list() == want[column].to_list(), f"{symbol}: {column} differs"
        np.testing.assert_allclose(got["volume"].to_numpy(), want["volume"].to_numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "faults",
    [WsFaults(drop=0.2, after=60, budget=1, seed=1), WsFaults(stall=0.2, stall_s=1.0, after=60, budget=1, seed=2)],
    ids=["dropped", "stalled"],
)
def test_okx_stream_after_a_fault_equals_the_published_candles(tmp_path, faults):
    lake = Lake(tmp_path / "lake")
    with OkxLoopback(faults=faults, seed=3) as server:
        runner, until_ms = stream_and_play(server, lake, MINUTES)
        assert_lake_equals(lake, server, until_ms)
        connects = server.connects
    assert faults.injected, "no fault was injected"
    assert runner.counts["reconnects"] >= 1 and connects >= 2
    assert runner.counts["catch_up_jobs"] >= 2  # the start and the reconnect each filled their hole by REST
    origins = set(lake.read("okx", "BTC/USDT", "1m")["origin"].to_list())
    assert origins == {"stream", "ccxt"}
    catch_ups = [j for j in JobStore(lake.root).list(kind="fetch") if j.request.get("stream_job")]
    assert catch_ups and all(j.status == "done" for j in catch_ups)


def test_a_quiet_okx_connection_stays_up_on_pongs(tmp_path):
    """No trades for longer than the stale window: ccxt's text pings get the server's pongs, the stream
    counts them as signs of life and does not reconnect."""
    lake = Lake(tmp_path / "lake")
    with OkxLoopback(seed=3) as server:
        unit = okx_unit(server, lake, options={"ws": {"keepAlive": 150}})
        symbols = sorted(server.symbols)
        jobs = JobStore(lake.root)
        settings = StreamSettings("okx", symbols, "1m", stale_after_s=1.2, backoff_s=0.02)
        runner = StreamRunner(unit(symbols[0]), settings, lake, jobs, jobs.create("stream", {}), unit)

        async def main() -> None:
            stop = asyncio.Event()
            task = asyncio.ensure_future(runner.run(stop))
            deadline = time.monotonic() + 20
            while runner.connections == 0:
                assert time.monotonic() < deadline, "the stream did not connect"
                await asyncio.sleep(0.02)
            await asyncio.sleep(3.0)  # over two stale windows without a trade
            stop.set()
            await asyncio.wait_for(task, 10)

        asyncio.run(main())
        assert server.pings >= 10 and server.connects == 1
    assert runner.connections == 1 and runner.counts["reconnects"] == 0
