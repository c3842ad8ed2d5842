"""The server's worker processes: a queued job cancelled before it starts never runs, a run starts from a
manifest file of the project's examples/, and the global plugin options reach the workers."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.service.conftest import synthetic_job
from tradecore.data.lake import Lake
from tradecore.plugins import PluginControls

ROOT = Path(__file__).resolve().parents[2]
#: long enough to hold the only worker while the next job waits
LONG_JOB = synthetic_job("2023-01-01T00:00:00Z", "2023-07-01T00:00:00Z", "1m")


def wait_for(what: str, check, timeout: float = 60, every: float = 0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what}: not after {timeout} s")


def test_a_job_cancelled_while_queued_never_runs(live):
    server = live(workers=1)
    running = server.client.post("/api/data-jobs", json=LONG_JOB).json()["id"]
    queued = server.client.post("/api/data-jobs", json=synthetic_job(timeframe="4h")).json()["id"]
    status = lambda job_id: server.client.get(f"/api/data-jobs/{job_id}").json()["status"]  # noqa: E731
    wait_for("the first job running", lambda: status(running) == "running")
    assert status(queued) == "queued"

    answer = server.client.post(f"/api/data-jobs/{queued}/actions", json={"action": "cancel"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "cancelled"
    job = answer.json()["job"]
    assert job["status"] == "interrupted" and job["progress"] == 0 and "resume" in job["actions"]
    assert job["details"]["messages"][-1] == "cancelled before it started"

    # the only worker comes free: the cancelled job still does not start
    server.client.post(f"/api/data-jobs/{running}/actions", json={"action": "cancel"})
    time.sleep(1.0)  # five looks of the supervisor at the queue
    assert status(queued) == "interrupted"
    assert Lake(server.lake).partition_files("synthetic", "SYN/USD", "4h") == []
    assert not (server.lake / "_service_logs" / f"fetch-{queued}.log").exists()


def test_plugin_controls_survive_the_trip_through_the_environment(tmp_path):
    controls = PluginControls(
        disable=("a", "b"), allow=("c",), strict=True, trace=True, plugin_dirs=(tmp_path / "plugins",)
    )
    env = controls.as_environment()
    assert PluginControls.from_environment({k: v for k, v in env.items() if v is not None}) == controls
    assert PluginControls().as_environment()["TRADECORE_LOAD_PLUGINS"] is None  # unset: every plugin loads


def test_global_plugin_options_reach_the_worker_processes(live):
    server = live(global_options=("--trace",))
    job_id = server.client.post("/api/data-jobs", json=synthetic_job()).json()["id"]
    assert server.wait_job(job_id)["status"] == "completed"
    log = (server.lake / "_service_logs" / f"fetch-{job_id}.log").read_text()
    assert "[trace]" in log  # the worker traced its plugin hook calls, as the server was told to


def test_start_a_run_from_a_manifest_file_of_the_examples(live, tmp_path):
    server = live(cwd=ROOT)
    offered = server.client.get("/api/manifests").json()
    assert "examples/quickstart-fast.json" in offered and "configs/kraken-btc-usd-1h.json" in offered
    started = server.client.post("/api/runs", json={"file": "examples/quickstart-fast.json"})
    assert started.status_code == 202, started.text
    assert started.json()["name"] == "quickstart-fast"

    def the_run_folder():
        launch = server.client.get("/api/runs").json()["launches"][0]
        assert launch["status"] in ("queued", "running"), launch
        return launch["run"] and launch

    launch = wait_for("the run's folder", the_run_folder, timeout=120, every=0.5)
    example = json.loads((ROOT / "examples" / "quickstart-fast.json").read_text())
    assert json.loads(Path(launch["manifest"]).read_text()) == example  # the file, as the run was started on it
    name = launch["run"]
    row = next(r for r in server.client.get("/api/runs").json()["runs"] if r["run"] == name)
    assert row["name"] == "quickstart-fast" and row["status"] == "running"
    recorded = json.loads((server.runs / name / "manifest.json").read_text())
    assert [recorded[k]["type"] for k in ("source", "trainer")] == [example[k]["type"] for k in ("source", "trainer")]
    assert server.stop() == 0  # Ctrl-C: the run is stopped like the CLI's, resumable
    record = json.loads((server.runs / name / "run.json").read_text())
    assert record["status"] == "interrupted", record["status"]
