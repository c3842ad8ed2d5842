"""``tradecore paper RUN --source kraken`` live, end to end: the session streams from the loopback Kraken websocket
(driven by the real ccxt.pro.kraken), its catch-up fills the warm-up, it decides on every closed candle the server
published after that, SIGTERM stops it (exit 130), and its ledger equals a replay of the same stored candles."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.paper.conftest import REPO, TINY, replay, train_tiny
from tests.paper.test_restart import _ledger_bytes
from tradecore.api import JobStore, Lake
from tradecore.paper.ledger import read_lines

pytest.importorskip("tradecore_kraken")
sys.path.insert(0, str(REPO / "plugins" / "tradecore-kraken" / "tests"))  # the stream tests' helpers
from stream_helpers import STEP, assert_lake_equals, published  # noqa: E402
from tradecore_kraken.ws_loopback import KrakenWsLoopback  # noqa: E402

PAIR = "BTC/USD"
HISTORY_S = 5 * 3600  # more than the twice 122 candles of warm-up the session asks the catch-up for


@pytest.fixture(scope="module")
def minute_run(runtime, tmp_path_factory):
    """The paper tests' tiny policy, trained on synthetic BTC/USD minutes (what the loopback streams)."""
    manifest = copy.deepcopy(TINY)
    manifest["name"] = "tiny-minutes"
    manifest["source"]["params"].update(symbol=PAIR, timeframe="1m")
    return train_tiny(runtime, tmp_path_factory.mktemp("minutes"), manifest)


def _wait(condition, timeout_s: float, what: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"paper exited ({proc.returncode}) while waiting for {what}: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


def _decided(folder: Path) -> list[int]:
    return [r["time"] for r in read_lines(folder, "equity")] if (folder / "equity.jsonl").exists() else []


def test_live_paper_streams_decides_on_every_closed_candle_and_equals_a_replay(minute_run, runtime, tmp_path):
    lake_root = tmp_path / "lake"
    folder = minute_run["run_dir"] / "paper" / "live-kraken-BTC-USD-1m"
    options = dict(hours=6, trades_per_minute=30, tick_ms=10_000, tick_wall_s=0.002, heartbeat_s=0.1, seed=5)
    with KrakenWsLoopback(pairs=("XXBTZUSD",), **options) as server:
        start_s = server.rest.start_s
        server.play_until(start_s + HISTORY_S)  # the market before the session: its warm-up history
        while not server.played:
            time.sleep(0.01)
        params = {"api_url": server.rest.url, "ws_url": server.ws_url, "rate_limit": "false", "backoff_s": "0"}
        command = [
            sys.executable, "-m", "tradecore", "--only", "tradecore-ppo,tradecore-kraken", "paper",
            str(minute_run["run_dir"]), "--source", "kraken", "--pair", PAIR, "--lake", str(lake_root),
            "--poll", "0.02", "--trust-model", *(a for k, v in params.items() for a in ("--param", f"{k}={v}")),
        ]  # fmt: skip
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ)
        try:

            def connected() -> bool:
                streams = JobStore(lake_root).list(kind="stream") if lake_root.exists() else []
                return bool(streams) and bool((streams[0].counts or {}).get("connected"))

            _wait(connected, 30, "the stream to connect", proc)
            # the market goes on: the bucket the stream joined in closes, the catch-up fills the warm-up, and
            # the session starts on the newest stored candle
            server.play_until(start_s + HISTORY_S + 5 * 60)
            _wait(lambda: len(_decided(folder)) > 0, 30, "the first decision", proc)
            until_s = start_s + HISTORY_S + 12 * 60  # then seven more minutes, decided as they land
            server.play_until(until_s)
            last_closed = until_s * 1000 - STEP
            _wait(lambda: last_closed in _decided(folder), 30, "a decision on the last closed candle", proc)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 130, err
        assert_lake_equals(Lake(lake_root), server, until_s)
        want = published(server, "XXBTZUSD", until_s)["time"].to_list()
    decided = _decided(folder)
    first = decided[0]
    assert first >= start_s * 1000 + HISTORY_S * 1000  # after the warm-up that the catch-up fetched
    assert decided == [t for t in want if t >= first]  # every closed candle after warm-up, once, in order
    (job,) = JobStore(lake_root).list(kind="stream")
    assert job.status == "interrupted" and job.counts["catch_up_jobs"] >= 1
    run = {**minute_run, "lake": lake_root}
    reference = replay(run, runtime, first, until_s * 1000, exchange="kraken", pair=PAIR, timeframe="1m")
    assert _ledger_bytes(folder) == _ledger_bytes(reference)
