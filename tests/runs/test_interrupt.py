"""Ctrl-C during training: a real SIGINT to ``tradecore run`` saves a checkpoint and a partial report, marks the run
interrupted and exits 130; ``tradecore run --resume RUN`` then finishes it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(predicate, proc: subprocess.Popen, timeout: float) -> None:
    """Poll until ``predicate()`` holds; fail early (with the child's output) if the child exits first."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"tradecore run exited ({proc.returncode}) before training checkpointed:\n{out}\n{err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("no checkpoint appeared in time")
        time.sleep(0.02)


@pytest.mark.slow
def test_ctrl_c_checkpoints_and_resume_completes(tiny_manifest, tmp_path):
    params = tiny_manifest["trainer"]["params"]
    # the first periodic checkpoint comes early; the rest of training outlasts the poll + signal by a wide margin
    params.update(total_timesteps=4096, checkpoint_freq=256, eval_freq=0, tensorboard=False)
    manifest = tmp_path / "M.json"
    manifest.write_text(json.dumps(tiny_manifest))
    runs = tmp_path / "runs"
    command = [sys.executable, "-m", "tradecore", "run", str(manifest), "--runs-dir", str(runs)]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def checkpointed() -> bool:
        return any(runs.glob("*/checkpoints/latest.json"))

    _wait_for(checkpointed, proc, timeout=90)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err and "Exception ignored" not in err, err

    (run,) = runs.iterdir()
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "interrupted"
    assert record["stages"][-1] == {**record["stages"][-1], "stage": "train", "status": "interrupted"}
    latest = json.loads((run / "checkpoints" / "latest.json").read_text())
    assert latest["reason"] == "interrupted" and 0 < latest["timesteps"] < 4096, latest
    assert (run / "checkpoints" / latest["model"]).is_file()
    report = (run / "report.html").read_text()
    assert "Partial report" in report and "a checkpoint was saved" in report
    assert not (run / "metrics.json").exists()
    assert f"tradecore run --resume {run}" in out

    resumed = subprocess.run(
        [sys.executable, "-m", "tradecore", "run", "--resume", run.name, "--runs-dir", str(runs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "complete" and len(record["resumed"]) == 1
    assert record["trainer"]["resumed"] is True and record["trainer"]["timesteps"] >= 4096
    assert all(stage["status"] == "done" for stage in record["stages"])
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["agent"]["total_return"] is not None and "verdict" in metrics
    assert "Partial report" not in (run / "report.html").read_text()
    assert [p.name for p in runs.iterdir()] == [run.name]  # resumed in place, no new run folder


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_a_run_like_ctrl_c(tiny_manifest, tmp_path, signum):
    """`kill`, a CI cancel or a closed terminal must leave a checkpoint and an interrupted record, never a run
    that stays 'running' for ever (and, on RunPod, a pod left billing)."""
    tiny_manifest["trainer"]["params"].update(total_timesteps=4096, checkpoint_freq=256, eval_freq=0, tensorboard=False)
    manifest = tmp_path / "M.json"
    manifest.write_text(json.dumps(tiny_manifest))
    runs = tmp_path / "runs"
    command = [sys.executable, "-m", "tradecore", "run", str(manifest), "--runs-dir", str(runs)]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: any(runs.glob("*/checkpoints/latest.json")), proc, timeout=90)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err, err
    (run,) = runs.iterdir()
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"
    assert json.loads((run / "checkpoints" / "latest.json").read_text())["reason"] == "interrupted"


@pytest.mark.slow
def test_a_run_killed_with_sigkill_lists_as_interrupted_and_resumes(tiny_manifest, tmp_path):
    """SIGKILL cannot be caught: run.json keeps 'running', so the listing asks whether its process lives."""
    tiny_manifest["trainer"]["params"].update(total_timesteps=4096, checkpoint_freq=256, eval_freq=0, tensorboard=False)
    manifest = tmp_path / "M.json"
    manifest.write_text(json.dumps(tiny_manifest))
    runs = tmp_path / "runs"
    command = [sys.executable, "-m", "tradecore", "run", str(manifest), "--runs-dir", str(runs)]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: any(runs.glob("*/checkpoints/latest.json")), proc, timeout=90)

    def listed_status() -> str:
        listing = subprocess.run(
            [sys.executable, "-m", "tradecore", "runs", "list", "--runs-dir", str(runs), "--json"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        return json.loads(listing.stdout)[0]["status"]

    assert listed_status() == "running"
    proc.kill()
    proc.communicate(timeout=60)
    (run,) = runs.iterdir()
    assert json.loads((run / "run.json").read_text())["status"] == "running"  # nothing could write
    assert listed_status() == "interrupted"
    resumed = subprocess.run(
        [sys.executable, "-m", "tradecore", "run", "--resume", run.name, "--runs-dir", str(runs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert listed_status() == "complete"
