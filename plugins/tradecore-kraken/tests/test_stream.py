"""``data stream`` against the loopback Kraken websocket (v2) driven by the real ccxt.pro.kraken: after
every fault the lake equals the closed candles the server published, each stored once."""

from __future__ import annotations

import pytest
from stream_helpers import assert_lake_equals, stream_and_play
from tradecore_kraken.ws_loopback import KrakenWsLoopback, WsFaults

from tradecore.api import JobStore, Lake

MINUTES = 12
STEP_MS = 60_000


def loopback(faults: WsFaults | None = None, **kw) -> KrakenWsLoopback:
    options = dict(hours=4, trades_per_minute=30, tick_ms=10_000, tick_wall_s=0.002, heartbeat_s=0.1, seed=5)
    options.update(kw)
    return KrakenWsLoopback(faults=faults, **options)


def test_stream_stores_every_closed_candle_once(tmp_path):
    lake = Lake(tmp_path / "lake")
    with loopback() as server:
        runner, until_s = stream_and_play(server, lake, MINUTES)
        assert_lake_equals(lake, server, until_s)
    origins = set(lake.read("kraken", "BTC/USD", "1m")["origin"].to_list())
    assert "stream" in origins  # the joined bucket came from the catch-up, the rest from the stream
    assert runner.counts["reconnects"] == 0 and runner.counts["candles"] > 0
    job = JobStore(lake.root).list(kind="stream")[0]
    assert set(job.counts["last_candle"]) == {"BTC/USD", "ETH/USD"} and "lag_s" in job.counts


@pytest.mark.parametrize(
    "faults",
    [
        WsFaults(drop=0.05, after=20, budget=3, seed=1),
        WsFaults(stall=0.05, stall_s=1.0, after=20, budget=2, seed=2),
        WsFaults(reorder=0.3, budget=60, seed=3),
        WsFaults(duplicate=0.3, budget=60, seed=4),
        WsFaults(malformed=0.05, after=20, budget=2, seed=5),
    ],
    ids=["dropped", "stalled", "reordered", "duplicated", "malformed"],
)
def test_after_each_fault_the_lake_equals_the_published_series(tmp_path, faults):
    lake = Lake(tmp_path / "lake")
    with loopback(faults) as server:
        runner, until_s = stream_and_play(server, lake, MINUTES)
        assert_lake_equals(lake, server, until_s)
    assert faults.injected, "no fault was injected"
    if {"drop", "stall", "malformed"} & set(faults.injected):
        assert runner.counts["reconnects"] >= 1 and runner.counts["catch_up_jobs"] >= 2
    if "duplicate" in faults.injected:
        assert runner.counts["duplicates"] > 0


def test_a_hole_the_catch_up_cannot_fill_is_recorded_for_data_gaps(tmp_path):
    """The REST catch-up cannot reach the exchange: the hole between the stored candles and the stream goes
    into the lake's hole verdicts as unfillable with the reason, and ``data gaps`` says so."""
    import asyncio
    import json
    import socket

    from stream_helpers import kraken_unit, published, wait_for
    from tradecore_kraken.params import KrakenParams
    from tradecore_kraken.source import KrakenSource

    from tradecore.api import StreamRunner, StreamSettings
    from tradecore.testing import run_cli

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    lake = Lake(tmp_path / "lake")
    with loopback() as server:
        start_ms = server.rest.start_s * 1000
        for symbol, pid in server.symbols.items():  # the first minute is stored; then the stream joins late
            lake.write("kraken", symbol, "1m", published(server, pid, server.rest.start_s + 60), "rest")
        server.play_until(server.rest.start_s + 300)
        unit = kraken_unit(server, lake)

        def unreachable(symbol, start, end):
            params = unit(symbol, start, end).params.model_dump()
            return KrakenSource(KrakenParams(**{**params, "api_url": dead_url, "max_retries": 0}))

        symbols = sorted(server.symbols)
        jobs = JobStore(lake.root)
        settings = StreamSettings("kraken", symbols, "1m", stale_after_s=0.6, close_grace_ms=300, backoff_s=0.02)
        runner = StreamRunner(unit(symbols[0]), settings, lake, jobs, jobs.create("stream", {}), unreachable)

        async def main() -> None:
            stop = asyncio.Event()
            task = asyncio.ensure_future(runner.run(stop))
            try:
                await wait_for(lambda: server.played and runner.connections > 0, 10, "the connection")
                server.play_until(server.rest.start_s + 600)
                await wait_for(lambda: len(runner.unfilled) == 2, 20, "both catch-ups to fail", server)
            finally:
                stop.set()
                await asyncio.wait_for(task, 10)

        asyncio.run(main())
    floor = start_ms + 6 * STEP_MS  # joined in minute 5: the stream vouches from minute 6 on
    for symbol in symbols:  # what the user sees: data gaps calls the hole unfillable, with the stream's reason
        result = run_cli("data", "gaps", "-p", symbol, "-t", "1m", "--lake", str(lake.root), "--json")
        assert result.exit_code == 0, result.output
        (hole,) = [g for g in json.loads(result.output)["gaps"] if g["repair"] == "unfillable"]
        assert hole["start_ms"] == start_ms + STEP_MS and hole["end_ms"] == floor
        assert "stream catch-up failed" in hole["reason"] and "cannot connect" in hole["reason"]
    assert len(JobStore(lake.root).list(kind="fetch")) == 2  # one failed catch-up each: no retry before a reconnect
