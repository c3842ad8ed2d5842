"""The ray backend on a real local Ray (2 CPUs, small object store, no dashboard): a 4-trial sweep and a single run."""

from __future__ import annotations

import json
import os
import subprocess
import sys

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
