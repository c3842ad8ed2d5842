"""``data stream`` against the loopback Kraken websocket (v2) driven by the real ccxt.pro.kraken: after
every fault the lake equals the closed candles the server published, each stored once."""

from __future__ import annotations

import pytest
from stream_helpers import assert_lake_equals, stream_and_play
from tradecore_kraken.ws_loopback import KrakenWsLoopback, WsFaults

from tradecore.api import JobStore, Lake

MINUTES = 12


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
