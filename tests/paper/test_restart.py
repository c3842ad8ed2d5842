"""kill -9 at random moments (seeded, bounded) and restart: the ledger equals an uninterrupted replay's, byte for
byte, with no fill lost or written twice; a live session follows candles as they are stored."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.paper.conftest import PAIR, REPO, replay
from tradecore.api import Lake
from tradecore.paper.ledger import LEDGER_FILES, read_lines


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _committed(folder: Path) -> int:
    path = folder / "state.json"
    try:
        return int(__import__("json").loads(path.read_text())["candles"])
    except (OSError, ValueError, KeyError):
        return 0


def _ledger_bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / f"{name}.jsonl").read_bytes() for name in LEDGER_FILES}


@pytest.mark.slow
def test_kill_9_at_random_moments_then_restart_gives_the_uninterrupted_ledger(paper_run, runtime) -> None:
    times = paper_run["frame"]["time"].dt.epoch("ms").to_numpy()
    start, end = int(times[700]), int(times[1000])
    reference = replay(paper_run, runtime, start, end, session="uninterrupted")
    run_dir = paper_run["run_dir"]
    folder = run_dir / "paper" / "killed"
    command = [sys.executable, "-m", "tradecore", "--only", "tradecore-ppo", "paper", str(run_dir), "--replay",
               "--start", _iso(start), "--end", _iso(end), "--lake", str(paper_run["lake"]), "--trust-model",
               "--session", "killed"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    rng = random.Random(20260101)
    kills = 0
    while True:
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if kills < 3:
            seen = _committed(folder)
            deadline = time.monotonic() + 120
            while _committed(folder) <= seen and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.2))  # somewhere inside a later candle, or between two
            if proc.poll() is None:
                proc.kill()
                proc.wait()
                kills += 1
                continue
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        break
    assert kills == 3
    assert _ledger_bytes(folder) == _ledger_bytes(reference)
    fills = read_lines(folder, "fills")
    assert len({(f["bar"], f["reason"]) for f in fills}) == len(fills) > 0


def test_a_live_session_follows_candles_as_they_are_stored(paper_run, runtime, tmp_path) -> None:
    """A live session on a lake that grows while it runs writes what a replay of the same candles writes."""
    from tradecore.paper.session import PaperRequest, PaperSession

    frame = paper_run["frame"]
    times = frame["time"].dt.epoch("ms").to_numpy()
    lake_root = tmp_path / "lake"
    lake = Lake(lake_root)
    lake.write("synthetic", PAIR, "1h", frame.head(700), "synthetic")
    run = {**paper_run, "lake": lake_root}
    request = PaperRequest(
        run_dir=run["run_dir"], exchange="synthetic", pair=PAIR, timeframe="1h", lake_root=lake_root,
        poll_seconds=0.01, echo=lambda line: None, session="live-test", clock=lambda: int(times[699]) + 3_600_000,
    )  # fmt: skip
    session = PaperSession(runtime, request, trust_model=True)
    stop = threading.Event()

    def stream() -> None:  # what `tradecore data stream` does: append closed candles, one write each
        try:
            for i in range(700, 760):
                lake.write("synthetic", PAIR, "1h", frame.slice(i, 1), "stream")
                time.sleep(0.01)
            deadline = time.monotonic() + 60  # a failing session must not leave this thread waiting
            while session.buffer.time[session.consumed - 1] < times[759] and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            stop.set()

    writer = threading.Thread(target=stream)
    writer.start()
    try:
        assert session.follow(stop.is_set) == "running"
    finally:
        writer.join()
        session.close("stopped")
    equity = read_lines(session.folder, "equity")
    assert [r["time"] for r in equity] == [int(t) for t in times[699:760]]  # the newest stored candle, then each new
    reference = replay(run, runtime, int(times[699]), int(times[760]), session="live-reference")
    assert _ledger_bytes(session.folder) == _ledger_bytes(reference)
