"""SIGKILL the real ``tradecore data fetch`` process at random moments; resuming ends in a clean run's lake."""

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


@pytest.mark.slow
def test_kill_9_at_random_moments_then_resume_equals_a_clean_run(tmp_path):
    from tradecore.api import JobStore, Lake

    with KrakenLoopback(hours=120, trades_per_minute=12, seed=3) as server:
        clean = Lake(tmp_path / "clean")
        run_fetch(server, clean)
        root = tmp_path / "killed"
        fetch = [
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
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        rng = random.Random(1)
        jobs = JobStore(root)
        kills = 0
        budget = time.monotonic() + 14
        while kills < 8 and time.monotonic() < budget:
            existing = jobs.list()
            command = (
                fetch
                if not existing
                else [*fetch[:5], "--resume", str(existing[-1].id), "--lake", str(root), "--quiet", "--json"]
            )
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
                [*fetch[:5], "--resume", str(job.id), "--lake", str(root), "--quiet", "--json"],
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
