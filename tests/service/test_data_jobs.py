"""The seed spec's data-jobs API through a live ``tradecore serve``: jobs run in real worker processes on the
job store the CLI uses; cancel, kill, restart and resume leave the lake a clean run would."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time

import polars as pl
import pytest

from tests.service.conftest import synthetic_job
from tradecore.data.lake import Lake

#: 260,640 candles: six chunks of the synthetic fetcher, so a job can be caught part-way
HALF_YEAR_1M = synthetic_job("2023-01-01T00:00:00Z", "2023-07-01T00:00:00Z", "1m")
# long enough that the stop always lands part-way, however fast the machine or stale the status it polled
THREE_YEARS_1M = synthetic_job("2020-01-01T00:00:00Z", "2023-01-01T00:00:00Z", "1m")


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tradecore", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def clean_lake(tmp_path_factory):
    """The lake an uninterrupted CLI fetch of HALF_YEAR_1M leaves."""
    root = tmp_path_factory.mktemp("clean") / "lake"
    done = cli(
        "data", "fetch", "--source", "synthetic", "--pair", "SYN/USD", "--timeframe", "1m",
        "--start", "2023-01-01", "--end", "2023-07-01", "--lake", str(root), "-q",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return Lake(root)


def wait_progress(server, job_id: int, timeout: float = 60) -> dict:
    """The job once it is running and part-way (some chunks stored, not all)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = server.client.get(f"/api/data-jobs/{job_id}").json()
        if job["status"] == "running" and 0 < job["progress"] < 0.5:
            return job
        assert job["status"] in ("queued", "running"), job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} never got part-way: {job}")


def test_a_fetch_job_runs_in_a_worker_and_answers_in_the_seed_shape(live):
    server = live()
    created = server.client.post("/api/data-jobs", json=synthetic_job())
    assert created.status_code == 201, created.text
    assert set(created.json()) == {"id", "status", "submitted_at"} and created.json()["status"] == "queued"
    job = server.wait_job(created.json()["id"])
    assert job["status"] == "completed" and job["progress"] == 1.0
    assert {"last_timestamp", "batches_completed", "messages"} <= set(job["details"])
    assert job["details"]["messages"][-1] == "stored 1,416 candles"
    result = job["result"]
    assert result["rows"] == 1416
    assert (result["start_timestamp"], result["end_timestamp"]) == ("2023-01-01T00:00:00Z", "2023-02-28T23:00:00Z")
    assert [a["type"] for a in result["artifacts"]] == ["parquet", "csv"]

    listed = server.client.get("/api/data-jobs").json()
    assert [j["id"] for j in listed] == [job["id"]]
    coverage = server.client.get("/api/data-coverage", params={"exchange": "synthetic", "symbol": "SYN/USD"}).json()
    assert len(coverage) == 1
    entry = coverage[0]
    assert entry["timeframe"] == "1h" and entry["last_job_id"] == job["id"] and entry["validated_at"] is None
    assert (entry["start_timestamp"], entry["end_timestamp"]) == ("2023-01-01T00:00:00Z", "2023-02-28T23:00:00Z")

    stored = Lake(server.lake).read("synthetic", "SYN/USD", "1h")
    parquet = server.client.get(f"/api/data-jobs/{job['id']}/download", params={"format": "parquet"})
    assert parquet.status_code == 200 and "attachment" in parquet.headers["content-disposition"]
    assert pl.read_parquet(io.BytesIO(parquet.content)).equals(stored)
    csv = server.client.get(f"/api/data-jobs/{job['id']}/download", params={"format": "csv"})
    from_csv = pl.read_csv(io.BytesIO(csv.content), try_parse_dates=True)
    assert from_csv.height == 1416 and from_csv["close"].to_list() == stored["close"].to_list()

    checked = server.client.post(f"/api/data-jobs/{job['id']}/actions", json={"action": "validate"}).json()
    assert checked["report"]["qc"]["ok"] is True and checked["report"]["gaps"]["missing_slots"] == 0
    assert server.client.get("/api/data-coverage").json()[0]["validated_at"] is not None

    # one store: the CLI lists the job the browser started
    listed_by_cli = cli("data", "jobs", "--json", "--lake", str(server.lake))
    assert job["id"] in [j["id"] for j in json.loads(listed_by_cli.stdout)]


@pytest.mark.slow
def test_kill_the_server_mid_job_restart_resume_equals_a_clean_run(live, clean_lake):
    server = live()
    job_id = server.client.post("/api/data-jobs", json=HALF_YEAR_1M).json()["id"]
    wait_progress(server, job_id)
    from tradecore.data.jobs import JobStore

    worker_pid = JobStore(server.lake).get(job_id).owner["pid"]
    os.kill(worker_pid, signal.SIGSTOP)  # frozen part-way, then the whole tree dies at once, as on power loss
    assert JobStore(server.lake).get(job_id).progress < 1
    os.kill(worker_pid, signal.SIGKILL)
    server.kill()

    again = live()
    job = again.client.get(f"/api/data-jobs/{job_id}").json()
    assert job["status"] == "interrupted" and "resume" in job["actions"], job
    assert 0 < job["progress"] < 1
    resumed = again.client.post(f"/api/data-jobs/{job_id}/actions", json={"action": "resume"})
    assert resumed.json()["status"] == "queued"
    assert again.wait_job(job_id)["status"] == "completed"
    assert Lake(again.lake).read("synthetic", "SYN/USD", "1m").equals(clean_lake.read("synthetic", "SYN/USD", "1m"))


@pytest.mark.slow
def test_cancel_in_the_browser_resume_from_the_cli(live, clean_lake):
    server = live()
    job_id = server.client.post("/api/data-jobs", json=HALF_YEAR_1M).json()["id"]
    wait_progress(server, job_id)
    cancelled = server.client.post(f"/api/data-jobs/{job_id}/actions", json={"action": "cancel"})
    assert cancelled.status_code == 200, cancelled.text
    job = cancelled.json()["job"]
    assert job["status"] == "interrupted" and job["progress"] < 1
    assert "cancelled from the web service" in job["details"]["messages"]
    assert server.client.post(f"/api/data-jobs/{job_id}/actions", json={"action": "cancel"}).status_code == 409

    resumed = cli("data", "fetch", "--resume", str(job_id), "--lake", str(server.lake), "-q")
    assert resumed.returncode == 0, resumed.stderr
    assert server.client.get(f"/api/data-jobs/{job_id}").json()["status"] == "completed"
    assert Lake(server.lake).read("synthetic", "SYN/USD", "1m").equals(clean_lake.read("synthetic", "SYN/USD", "1m"))


@pytest.mark.slow
def test_ctrl_c_stops_the_server_and_leaves_running_jobs_resumable(live):
    server = live()
    job_id = server.client.post("/api/data-jobs", json=THREE_YEARS_1M).json()["id"]
    wait_progress(server, job_id)
    assert server.stop() == 0
    from tradecore.data.jobs import JobStore

    job = JobStore(server.lake).get(job_id)
    assert job.status == "interrupted" and job.cursor is not None, job


@pytest.mark.slow
def test_a_kraken_job_against_the_loopback_exchange(live):
    from tradecore_kraken.loopback import KrakenLoopback

    with KrakenLoopback(hours=6, trades_per_minute=20, seed=4) as exchange:
        fixed = {"api_url": exchange.url, "rate_limit": "false", "method": "trades", "backoff_s": 0}
        params = [f"kraken.{k}={v}" for k, v in fixed.items()]
        server = live(*[a for p in params for a in ("--source-param", p)])
        start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exchange.start_s))
        end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exchange.end_s))
        payload = {"exchange": "kraken", "symbol": "BTC/USD", "timeframe": "5m", "start_timestamp": start,
                   "end_timestamp": end, "options": {"seed_from_zip": False}}  # fmt: skip
        created = server.client.post("/api/data-jobs", json=payload)
        assert created.status_code == 201, created.text
        job = server.wait_job(created.json()["id"])
    assert job["status"] == "completed", job
    stored = Lake(server.lake).read("kraken", "BTC/USD", "5m")
    assert stored.height == job["result"]["rows"] > 0
    coverage = server.client.get("/api/data-coverage", params={"exchange": "kraken"}).json()
    assert [(c["symbol"], c["timeframe"]) for c in coverage] == [("BTC/USD", "5m")]
    # the form's warnings come from the exchange's facts: Kraken's 720-candle REST cap
    warned = server.client.get(
        "/api/sources/kraken/warnings", params={"timeframe": "1m", "start": "2024-01-01", "end": "2024-02-01"}
    ).json()["warnings"]
    assert any("newest 720 candles" in w for w in warned)
