"""The ray backend on a real local Ray (2 CPUs, small object store, no dashboard): a 4-trial sweep and a single run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray.tune")

ENV = {"window": 8, "episode_steps": 32, "normalize": "none"}


def manifest(**extra):
    data = {
        "version": 1,
        "name": "ray-test",
        "env": ENV,
        "source": {"type": "synthetic", "params": {"bars": 400, "timeframe": "1h"}},
        "backend": {"type": "ray", "params": {"num_cpus": 2, "object_store_mb": 100}},
    }
    data.update(extra)
    return data


@pytest.mark.slow
def test_four_trial_sweep_on_a_two_cpu_local_ray(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(
        json.dumps(
            manifest(
                sweep={
                    "workers": 2,
                    "metric": "baselines.buy_and_hold.total_return",
                    "parameters": {"source.params.seed": {"values": [1, 2, 3, 4]}},
                }
            )
        )
    )
    env = {**os.environ, "TRADECORE_LAKE": str(tmp_path / "lake"), "RAY_USAGE_STATS_ENABLED": "0"}
    out = subprocess.run(
        [sys.executable, "-m", "tradecore", "sweep", str(path), "--runs-dir", str(tmp_path / "runs"), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout)
    assert [t["key"] for t in summary["trials"]] == ["t000", "t001", "t002", "t003"]
    assert summary["counts"] == {"done": 4}, summary["trials"]
    values = {t["key"]: t["metrics"]["baselines"]["buy_and_hold"]["total_return"] for t in summary["trials"]}
    assert summary["best"]["trial"] == max(values, key=values.get)
    assert len({t["overrides"]["source.params.seed"] for t in summary["trials"]}) == 4
    # Tune kept each trial folder as its checkpoint
    assert list((tmp_path / "runs" / "sweeps").glob("*/ray/tune/*/checkpoint_*"))


DROPIN = Path(__file__).parent / "dropin"


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if text.encode() in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


@pytest.mark.slow
def test_asha_stops_bad_trials_early_on_validation_scores_reported_during_training(tmp_path):
    """Trials report each validation score as the trainer writes it; ASHA stops the trials that fall behind."""
    path = tmp_path / "m.json"
    path.write_text(
        json.dumps(
            manifest(
                trainer={"type": "curve-test", "params": {"evals": 6, "eval_freq": 100, "step_s": 0.25}},
                backend={
                    "type": "ray",
                    "params": {
                        "num_cpus": 2,
                        "object_store_mb": 100,
                        "scheduler": {"type": "asha", "grace_period": 100, "reduction_factor": 2},
                    },
                },
                sweep={
                    "workers": 2,
                    "metric": "baselines.buy_and_hold.total_return",
                    # the best trial runs first; t002/t003 start later and reach the first rung below the others
                    "parameters": {"trainer.params.quality": {"values": [1.0, 0.5, -1.0, -0.5]}},
                },
            )
        )
    )
    env = {**os.environ, "TRADECORE_LAKE": str(tmp_path / "lake"), "RAY_USAGE_STATS_ENABLED": "0"}
    out = subprocess.run(
        [sys.executable, "-m", "tradecore", "--plugins-dir", str(DROPIN), "sweep", str(path)]
        + ["--runs-dir", str(tmp_path / "runs"), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout)
    status = {t["key"]: t["status"] for t in summary["trials"]}
    assert status["t000"] == "done" and status["t002"] == status["t003"] == "stopped", summary["trials"]
    assert status["t001"] in ("done", "stopped")  # stopped unless it reached the first rung before t000
    for trial in summary["trials"]:
        (curve,) = Path(trial["folder"]).glob("*/training.csv")
        rows = curve.read_text().splitlines()[1:]
        if trial["status"] == "done":
            assert len(rows) == 6
        else:  # ASHA decides at its first rung (100 steps); the stop lands at the trial's next report
            assert 1 <= len(rows) < 6, rows
            stopped_at = re.search(r"stopped early by the asha scheduler at (\d+) steps", trial["error"])
            assert stopped_at and 100 <= int(stopped_at.group(1)) < 600, trial["error"]
    assert summary["counts"]["stopped"] >= 2 and summary["best"]["trial"] in ("t000", "t001")
    assert _processes_mentioning(str(tmp_path / "runs")) == []  # stopped trials left no child run behind


def test_curve_tail_reads_only_complete_new_rows_of_training_csv(tmp_path):
    from tradecore_ray.backend import CurveTail

    tail = CurveTail(tmp_path)
    assert tail.rows() == []  # no run folder yet
    curve = tmp_path / "20260101T000000Z-run" / "training.csv"
    curve.parent.mkdir()
    curve.write_text("timesteps,validation_score,train_episode_return,best\n128,-0.15,nan,1\n256,0.02")
    assert [(r["timesteps"], r["validation_score"]) for r in tail.rows()] == [(128.0, -0.15)]
    with curve.open("a") as fh:
        fh.write("5,nan,1\n384,0.04,nan,0\n")  # the half-written row is completed, then a new one
    assert [(r["timesteps"], r["validation_score"]) for r in tail.rows()] == [(256.0, 0.025), (384.0, 0.04)]
    assert tail.rows() == []
