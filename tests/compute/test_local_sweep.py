"""The local backend end to end through the real CLI: sweeps in parallel child processes, Ctrl-C, crashes,
timeouts, a killed parent, and single runs in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tradecore.compute.summary import TrialResult, best_trial, render_summary, summary_dict

from .conftest import DROPIN, SMALL_ENV, alive, cli_env, start_cli, synthetic_manifest, wait_for, write_manifest


def _sweep_json(runs):
    (found,) = list((runs / "sweeps").glob("*/sweep.json"))
    return json.loads(found.read_text())


def _started_pids(markers):
    return sorted(int(p.stem) for p in markers.glob("*.started"))


@pytest.mark.slow
def test_sweep_of_four_runs_with_two_workers_completes_with_summary(tmp_path):
    manifest = write_manifest(
        tmp_path,
        synthetic_manifest(
            sweep={
                "workers": 2,
                "parameters": {"source.params.seed": {"values": [1, 2]}, "env.fee_bps": {"values": [10, 26]}},
            }
        ),
    )
    runs = tmp_path / "runs"
    proc = start_cli(["sweep", str(manifest), "--runs-dir", str(runs), "--json"], tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert summary["counts"] == {"incomplete": 4} or summary["counts"] == {"done": 4}
    assert [t["key"] for t in summary["trials"]] == ["t000", "t001", "t002", "t003"]
    assert summary == _sweep_json(runs)
    folders = {t["folder"] for t in summary["trials"]}
    assert len(folders) == 4  # each run in its own folder
    for trial in summary["trials"]:
        child_manifest = json.loads(
            (runs / "sweeps" / trial["folder"].split("/sweeps/")[1] / "manifest.json").read_text()
        )
        assert child_manifest["backend"] == {"type": "local", "params": {"mode": "inprocess"}}
        assert child_manifest["env"]["fee_bps"] == trial["overrides"]["env.fee_bps"]
        assert child_manifest["source"]["params"]["seed"] == trial["overrides"]["source.params.seed"]
        assert trial["stages"][0]["stage"] == "data" and trial["stages"][0]["status"] == "done"
    # four distinct child processes ran, at most two at once
    assert len({t["pid"] for t in summary["trials"]}) == 4
    assert "4 run(s), 2 at a time" in err


def test_interrupting_a_sweep_leaves_no_child_process(tmp_path):
    markers = tmp_path / "markers"
    manifest = write_manifest(
        tmp_path,
        {
            "version": 1,
            "name": "slow",
            "env": SMALL_ENV,
            "source": {"type": "slow-test", "params": {"seconds": 60}},
            "sweep": {"workers": 2, "parameters": {"source.params.seed": {"values": [1, 2, 3, 4]}}},
        },
    )
    runs = tmp_path / "runs"
    proc = start_cli(["sweep", str(manifest), "--runs-dir", str(runs)], tmp_path)
    wait_for(lambda: len(_started_pids(markers)) == 2, what="two children to start")
    pids = _started_pids(markers)
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "sweep interrupted" in err and "Traceback" not in err
    assert not [pid for pid in pids if alive(pid)]
    # each child got the polite SIGINT and wrote what it could
    assert sorted(int(p.stem) for p in markers.glob("*.partial")) == pids
    summary = _sweep_json(runs)
    assert summary["interrupted"] is True
    assert summary["counts"] == {"interrupted": 2, "cancelled": 2}
    assert len(_started_pids(markers)) == 2  # cancelled trials never started


def test_sigterm_to_the_sweep_also_stops_children(tmp_path):
    markers = tmp_path / "markers"
    manifest = write_manifest(
        tmp_path,
        {
            "version": 1,
            "name": "slow",
            "env": SMALL_ENV,
            "source": {"type": "slow-test", "params": {"seconds": 60}},
            "sweep": {"workers": 2, "parameters": {"source.params.seed": {"values": [1, 2, 3]}}},
        },
    )
    proc = start_cli(["sweep", str(manifest), "--runs-dir", str(tmp_path / "runs")], tmp_path)
    wait_for(lambda: len(_started_pids(markers)) == 2, what="two children to start")
    proc.terminate()
    proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert not [pid for pid in _started_pids(markers) if alive(pid)]


def test_killing_the_parent_with_sigkill_takes_its_children_down(tmp_path):
    markers = tmp_path / "markers"
    manifest = write_manifest(
        tmp_path,
        {
            "version": 1,
            "name": "slow",
            "env": SMALL_ENV,
            "source": {"type": "slow-test", "params": {"seconds": 60}},
            "sweep": {"workers": 2, "parameters": {"source.params.seed": {"values": [1, 2]}}},
        },
    )
    proc = start_cli(["sweep", str(manifest), "--runs-dir", str(tmp_path / "runs")], tmp_path)
    wait_for(lambda: len(_started_pids(markers)) == 2, what="two children to start")
    proc.kill()
    proc.communicate(timeout=10)
    pids = _started_pids(markers)
    wait_for(lambda: not any(alive(p) for p in pids), timeout=10, what="orphaned children to exit")


def test_a_crashing_run_does_not_take_the_sweep_down(tmp_path):
    manifest = write_manifest(
        tmp_path,
        {
            "version": 1,
            "name": "crashy",
            "env": SMALL_ENV,
            "source": {"type": "slow-test", "params": {}},
            "sweep": {"workers": 2, "parameters": {"source.params.crash": {"values": ["no", "abort", "raise"]}}},
        },
    )
    runs = tmp_path / "runs"
    proc = start_cli(["sweep", str(manifest), "--runs-dir", str(runs)], tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    trials = {t["overrides"]["source.params.crash"]: t for t in _sweep_json(runs)["trials"]}
    assert trials["no"]["status"] in ("incomplete", "done"), trials["no"]
    assert trials["abort"]["status"] == "failed" and trials["abort"]["returncode"] == -signal.SIGABRT
    assert trials["raise"]["status"] == "failed" and "synthetic failure for the test" in trials["raise"]["error"]
    assert "3 run(s)" in out and "2 failed" in out


def test_backend_timeout_stops_a_run(tmp_path):
    markers = tmp_path / "markers"
    manifest = write_manifest(
        tmp_path,
        {
            "version": 1,
            "name": "slow",
            "env": SMALL_ENV,
            "source": {"type": "slow-test", "params": {"seconds": 60}},
            "backend": {"type": "local", "params": {"timeout_s": 1.5, "stop_grace_s": 2}},
            "sweep": {"parameters": {"source.params.seed": {"values": [1]}}},
        },
    )
    runs = tmp_path / "runs"
    proc = start_cli(["sweep", str(manifest), "--runs-dir", str(runs)], tmp_path)
    proc.communicate(timeout=60)
    (trial,) = _sweep_json(runs)["trials"]
    assert trial["status"] == "timeout"
    # the group was killed; under load a child may take a moment to be reaped
    wait_for(
        lambda: not [pid for pid in _started_pids(markers) if alive(pid)], timeout=10, what="the timed-out run to exit"
    )


def test_subprocess_mode_runs_in_a_child_and_reports_failures_in_one_line(tmp_path):
    ok = write_manifest(
        tmp_path, synthetic_manifest(backend={"type": "local", "params": {"mode": "subprocess"}}), "ok.json"
    )
    bad = write_manifest(
        tmp_path,
        {
            "version": 1,
            "name": "bad",
            "env": SMALL_ENV,
            "source": {"type": "slow-test", "params": {"crash": "abort"}},
            "backend": {"type": "local", "params": {"mode": "subprocess"}},
        },
        "bad.json",
    )
    env = cli_env(tmp_path)
    base = [
        sys.executable,
        "-m",
        "tradecore",
        "--plugins-dir",
        str(DROPIN),
        "run",
        "--runs-dir",
        str(tmp_path / "runs"),
    ]
    good = subprocess.run([*base, str(ok), "--json"], capture_output=True, text=True, env=env, timeout=60)
    assert good.returncode == 0, good.stderr
    outcome = json.loads(good.stdout)
    assert outcome["stages"][0] == {**outcome["stages"][0], "stage": "data", "status": "done"}
    assert "[data] 400 1h candles" in good.stderr  # the child's log streamed through the parent
    crashed = subprocess.run([*base, str(bad)], capture_output=True, text=True, env=env, timeout=60)
    assert crashed.returncode == 1
    assert "failed in its child process (exit code -6)" in crashed.stderr
    assert "Traceback" not in crashed.stderr and len(crashed.stderr.strip().splitlines()) == 1
    (pid,) = _started_pids(tmp_path / "markers")
    assert pid != os.getpid()


def test_best_trial_by_metric_and_mode():
    results = [
        TrialResult(key=f"t{i:03d}", index=i, overrides={"seed": i}, status=s, metrics=m)
        for i, (s, m) in enumerate(
            [
                ("done", {"test": {"sharpe": 0.5}}),
                ("done", {"test": {"sharpe": 1.5}}),
                ("failed", {"test": {"sharpe": 9.0}}),
                ("done", {"test": {}}),
                ("done", {"test": {"sharpe": float("nan")}}),
            ]
        )
    ]
    assert best_trial(results, "test.sharpe", "max").key == "t001"
    assert best_trial(results, "metrics.test.sharpe", "min").key == "t000"
    assert best_trial(results, "test.sortino", "max") is None
    summary = summary_dict("s", None, ["seed"], results, "test.sharpe", "max")
    text = render_summary(summary)
    assert "best: t001 (test.sharpe = 1.5, max) with seed=1" in text
    assert "t001 *" in text
    assert summary["counts"] == {"done": 4, "failed": 1}


@pytest.mark.parametrize("metric,expected", [(None, "name a metric"), ("x.y", "no finished run reported metric")])
def test_summary_says_why_there_is_no_best(metric, expected):
    results = [TrialResult(key="t000", index=0, overrides={"seed": 1}, status="incomplete")]
    assert expected in render_summary(summary_dict("s", None, ["seed"], results, metric, "max"))
