"""kill -9 of ``tradecore data stream`` at seeded random moments, then a restart: the lake holds every
closed candle the loopback published, once; SIGTERM stops it cleanly (exit 130, job interrupted)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from stream_helpers import assert_lake_equals, published
from tradecore_kraken.ws_loopback import KrakenWsLoopback

from tradecore.api import JobStore, Lake

ROOT = Path(__file__).resolve().parents[3]


def _start(server: KrakenWsLoopback, lake: Lake) -> subprocess.Popen:
    start = datetime.fromtimestamp(server.rest.start_s, UTC).isoformat()
    params = [
        f"api_url={server.rest.url}",
        f"ws_url={server.ws_url}",
        "rate_limit=false",
        "backoff_s=0",
        "timeout_ms=2000",
    ]
    command = [sys.executable, "-m", "tradecore", "data", "stream", "--source", "kraken", "--pair", "BTC/USD,ETH/USD"]
    command += ["--timeframe", "1m", "--lake", str(lake.root), "--start", start, "--stale-after", "1", "--grace", "0.3"]
    command += ["--backoff", "0.02"]
    command += [arg for p in params for arg in ("--param", p)] + ["-q"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *map(str, ROOT.glob("plugins/*/src"))])}
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait(condition, timeout_s: float, what: str, server: KrakenWsLoopback) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout_s} s waiting for {what}"
        if server.played:
            server.play_until(server.clock_ns // 1_000_000_000 + 4)
        time.sleep(0.02)


@pytest.mark.slow  # three process starts (ccxt, polars, pyarrow imports): ~15 s on a busy machine
def test_kill_9_and_restart_lose_and_double_nothing(tmp_path):
    lake = Lake(tmp_path / "lake")
    rng = random.Random(12)
    server = KrakenWsLoopback(hours=3, trades_per_minute=30, tick_ms=2000, tick_wall_s=0.01, heartbeat_s=0.1, seed=9)
    with server:
        for kill in range(3):
            process = _start(server, lake)
            connects = server.connects
            try:
                _wait(lambda c=connects: server.connects > c, 30, "the stream to connect", server)
                if kill < 2:
                    time.sleep(rng.uniform(0.2, 1.5))
                    process.kill()  # SIGKILL: no cleanup at all
                    process.wait(10)
                    continue
                until_s = (server.clock_ns // 1_000_000_000 // 60 + 1) * 60
                symbols = {"BTC/USD": "XXBTZUSD", "ETH/USD": "XETHZUSD"}
                want = {s: published(server, p, until_s).height for s, p in symbols.items()}
                _wait(
                    lambda u=until_s, w=want: all(
                        lake.read("kraken", s, "1m", end=u * 1000).height >= n for s, n in w.items()
                    ),
                    30,
                    "every closed candle in the lake",
                    server,
                )
                time.sleep(0.5)  # let a rewrite under way land
                process.send_signal(signal.SIGTERM)
                _, err = process.communicate(timeout=15)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(10)
        assert process.returncode == 130, err
        assert_lake_equals(lake, server, until_s)
    streams = JobStore(lake.root).list(kind="stream")
    assert len(streams) == 3
    assert streams[0].status == "interrupted" and streams[0].counts["pid"] == process.pid
