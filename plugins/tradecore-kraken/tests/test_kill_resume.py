"""SIGKILL the real ``tradecore data fetch`` process at random moments, or every few pages; resuming ends in a
clean run's lake, and every restart keeps what it fetched."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest
from kraken_helpers import lake_frame, run_fetch
from tradecore_kraken.loopback import KrakenLoopback
from tradecore_kraken.source import reached_of


def fetch_command(server: KrakenLoopback, root) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tradecore",
        "data",
        "fetch",
        "--source",
        "kraken",
        "--pair",
        "BTC/USD",
        "--timeframe",
        "5m",
        "--start",
        "2023-07-01T00:00:00",
        "--param",
        "method=trades",
        "--param",
        "rate_limit=false",
        "--param",
        f"api_url={server.url}",
        "--param",
        "backoff_s=0",
        "--lake",
        str(root),
        "--quiet",
        "--json",
    ]


def resume_command(fetch: list[str], job_id: int, root) -> list[str]:
    return [*fetch[:5], "--resume", str(job_id), "--lake", str(root), "--quiet", "--json"]


@pytest.mark.slow
def test_kill_9_at_random_moments_then_resume_equals_a_clean_run(tmp_path):
    from tradecore.api import JobStore, Lake

    with KrakenLoopback(hours=120, trades_per_minute=12, seed=3) as server:
        clean = Lake(tmp_path / "clean")
        run_fetch(server, clean)
        root = tmp_path / "killed"
        fetch = fetch_command(server, root)
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        rng = random.Random(1)
        jobs = JobStore(root)
        kills = 0
        budget = time.monotonic() + 14
        while kills < 8 and time.monotonic() < budget:
            existing = jobs.list()
            command = fetch if not existing else resume_command(fetch, existing[-1].id, root)
            proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            # kill after a random number of Trades pages: anywhere inside or between window commits
            target = server.counts.get("Trades", 0) + rng.randint(1, 45)
            while server.counts.get("Trades", 0) < target and proc.poll() is None:
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.01))
            if proc.poll() is not None:
                break  # it finished before the kill
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
        job = jobs.list()[-1]
        if job.status != "done":
            done = subprocess.run(
                resume_command(fetch, job.id, root),
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0, done.stderr
        assert kills >= 3
        assert jobs.get(job.id).status == "done"
        killed = Lake(root)
        assert lake_frame(killed).equals(lake_frame(clean))
        assert lake_frame(killed)["trades"].sum() == len(server.tapes["XXBTZUSD"])


@pytest.mark.slow
def test_killed_every_few_pages_each_restart_keeps_what_it_fetched(tmp_path):
    """A day of trades (about 20 pages, one old commit window) with a SIGKILL every 4 pages: every restart
    stores more candles than the one before, and the end equals a clean run."""
    from tradecore.api import JobStore, Lake

    with KrakenLoopback(hours=24, trades_per_minute=14, seed=5) as server:
        clean = Lake(tmp_path / "clean")
        run_fetch(server, clean)
        root = tmp_path / "killed"
        fetch = fetch_command(server, root)
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        jobs = JobStore(root)
        reached: list[int] = []
        for _ in range(40):
            existing = jobs.list()
            if existing and existing[0].status == "done":
                break
            command = fetch if not existing else resume_command(fetch, existing[0].id, root)
            proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            target = server.counts.get("Trades", 0) + 4
            while server.counts.get("Trades", 0) < target and proc.poll() is None:
                time.sleep(0.001)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait()
            reached.append(reached_of(jobs.list()[0].cursor) or 0)
        assert jobs.list()[0].status == "done"
        assert len(reached) >= 4
        progressing = reached[:-1]  # the last run may have finished without a kill
        assert all(b > a for a, b in zip(progressing, progressing[1:], strict=False)), reached
        assert lake_frame(Lake(root)).equals(lake_frame(clean))
