"""The serverless evaluation worker: bad input in-process, and the real SDK's local test mode in a subprocess.

``python -m tradecore_runpod.serverless --test_input '{"input": {...}}'`` makes runpod 1.12's worker run
the handler once and exit (``runpod.serverless.modules.rp_local.run_local``): exit 0 and an
``INFO   | Job result: {...}`` line on success, exit 1 and ``ERROR  | Job local_test failed with error: ...``
when the output carries ``error``. The SDK's logger cuts any message over 4096 characters to its first
and last 2048, so the result line is compared piecewise with what ``tradecore eval --json`` gives.
An audit hook in the worker records every attempted internet connection: local mode must make none.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tradecore_runpod.serverless import handler

from tradecore.api import Runtime

TINY: dict[str, Any] = {
    "version": 1,
    "name": "tiny",
    "seed": 3,
    "source": {"type": "synthetic", "params": {"bars": 900, "timeframe": "1h", "seed": 11}},
    "indicators": [{"type": "log_returns", "params": {"period": 1}}, {"type": "rsi", "params": {"period": 14}}],
    "env": {"window": 8, "episode_steps": 64, "normalize_window": 50},
    "reward": [{"type": "pnl"}],
    "split": {"train": 0.6, "validation": 0.2, "test": 0.2},
    "trainer": {
        "type": "sb3",
        "params": {
            "algo": "PPO",
            "total_timesteps": 256,
            "n_envs": 2,
            "n_steps": 64,
            "batch_size": 64,
            "n_epochs": 1,
            "eval_freq": 0,
            "checkpoint_freq": 0,
            "tensorboard": False,
        },
    },
}
OTHER_DATA = {"type": "synthetic", "params": {"bars": 700, "timeframe": "1h", "seed": 5}}

# records (never blocks) every internet connection or name lookup the worker process attempts
NETWORK_GUARD = """
import os, sys
def _hook(event, args, _log=os.environ["NETWORK_LOG"]):
    if event == "socket.connect" and isinstance(args[1], tuple) or event == "socket.getaddrinfo":
        with open(_log, "a") as fh:
            fh.write(f"{event} {args[1] if event == 'socket.connect' else args[0]}\\n")
sys.addaudithook(_hook)
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """A runs root holding one tiny trained run (real PPO, a few hundred steps)."""
    root = tmp_path_factory.mktemp("runs")
    result = Runtime().run(copy.deepcopy(TINY), runs_root=root, echo=lambda _: None)
    assert result.complete
    return root


@pytest.fixture
def runs_env(tmp_path, monkeypatch) -> Path:
    """A runs root with one untrained run folder: bad input must be refused before any model is loaded."""
    root = tmp_path / "runs"
    run = root / "20260101T000000Z-tiny"
    (run / "model").mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"status": "complete"}))
    for name in ("manifest.json", "manifest.input.json"):
        (run / name).write_text(json.dumps(TINY))
    monkeypatch.setenv("TRADECORE_RUNS", str(root))
    return root


def _run_name(runs: Path) -> str:
    (name,) = [p.name for p in runs.iterdir() if p.is_dir()]
    return name


def _worker(job: dict[str, Any], runs: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess, list[str]]:
    guard = tmp_path / "guard"
    guard.mkdir(exist_ok=True)
    (guard / "sitecustomize.py").write_text(NETWORK_GUARD)
    log = tmp_path / "network.log"
    env = {
        **os.environ,
        "TRADECORE_RUNS": str(runs),
        "HOME": str(tmp_path),  # never pick up a developer's ~/.runpod/config.toml
        "NETWORK_LOG": str(log),
        "PYTHONPATH": os.pathsep.join([str(guard), os.environ.get("PYTHONPATH", "")]),
    }
    for name in ("RUNPOD_WEBHOOK_GET_JOB", "RUNPOD_ENDPOINT_ID", "RUNPOD_REALTIME_PORT"):
        env.pop(name, None)
    proc = subprocess.run(
        [sys.executable, "-m", "tradecore_runpod.serverless", "--test_input", json.dumps(job)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc, (log.read_text().splitlines() if log.exists() else [])


def _logged_result(stdout: str) -> str:
    """The message of the SDK's ``Job result:`` log line, possibly cut in the middle by its logger."""
    match = re.search(r"^INFO   \| (Job result: .*?)\nINFO   \| Local testing complete", stdout, re.S | re.M)
    assert match, stdout[-2000:]
    return match.group(1)


# ---------------------------------------------------------------- bad input, in-process, no evaluation


@pytest.mark.parametrize(
    ("job_input", "expected"),
    [
        ({"run": "/"}, "outside the runs root"),
        ({"run": "../elsewhere"}, "outside the runs root"),
        ({"run": "no-such-run"}, "does not exist"),
        ({"run": "nested/no-such-run"}, "no run folder at"),
        ({}, "input.run: give the run folder"),
        ({"run": "latest", "split": "holdout"}, "input.split: 'holdout' is not one of test"),
        ({"run": "latest", "segments": 0}, "input.segments"),
        ({"run": "latest", "data": "not json"}, "input.data: give the source as a JSON object"),
        ({"run": "latest", "data": {"params": {}}}, 'input.data: a source object needs a "type"'),
        ({"run": "latest", "data": {"type": "no-such-source"}}, "no-such-source"),
        ({"run": "latest", "model": "/tmp/evil.zip"}, "input: unknown field(s) model"),
        ("latest", "input: give an object like"),
    ],
)
def test_bad_input_is_one_line_error(runs_env, job_input, expected):
    out = handler({"id": "j", "input": job_input})
    assert set(out) == {"error"}, out
    assert expected in out["error"] and "\n" not in out["error"] and "Traceback" not in out["error"]


def test_symlink_out_of_the_root_is_refused(runs_env, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (runs_env / "sneaky").symlink_to(outside, target_is_directory=True)
    try:
        out = handler({"input": {"run": "sneaky"}})
    finally:
        (runs_env / "sneaky").unlink()
    assert "outside the runs root" in out["error"]


def test_corrupt_model_is_one_line_error(runs_env):
    (runs_env / "20260101T000000Z-tiny" / "model" / "model.zip").write_bytes(b"not a zip")
    out = handler({"input": {"run": "latest"}})
    assert set(out) == {"error"} and "cannot load PPO model" in out["error"] and "\n" not in out["error"]


def test_missing_runs_root_says_where_to_point_it(monkeypatch, tmp_path):
    monkeypatch.setenv("TRADECORE_RUNS", str(tmp_path / "absent"))
    out = handler({"input": {"run": "latest"}})
    assert "set TRADECORE_RUNS" in out["error"] and "/runpod-volume" in out["error"]


# ---------------------------------------------------------------- the real SDK worker, local test mode


@pytest.mark.slow
def test_worker_output_matches_tradecore_eval(runs, tmp_path):
    from tradecore.testing import run_cli

    name = _run_name(runs)
    data = json.dumps(OTHER_DATA)
    cli_out = run_cli("eval", name, "--runs-dir", str(runs), "--data", data, "--json", catch_exceptions=True)
    assert cli_out.exit_code == 0, cli_out.output
    expected = json.loads(cli_out.stdout)["metrics"]

    proc, network = _worker({"input": {"run": name, "data": OTHER_DATA}}, runs, tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "INFO   | Job local_test completed successfully." in proc.stdout
    assert network == [], network
    assert "Traceback" not in proc.stdout + proc.stderr

    logged = _logged_result(proc.stdout)
    path = Path(re.search(r"'path': '([^']+)'", logged).group(1))
    assert path.parent == runs / name / "evals" and path.name.endswith("-all")
    output = {
        "run": name,
        "split": "all",
        "path": str(path),
        "verdict": expected["verdict"]["summary"],
        "metrics": expected,
    }
    full = f"Job result: { ({'output': output}) }"
    head, cut, tail = logged.partition("\n...TRUNCATED ")
    if cut:  # the SDK's logger kept the first and last 2048 characters
        assert len(head) == len(tail.split("CHARACTERS...\n", 1)[1]) == 2048
        assert full.startswith(head) and full.endswith(tail.split("CHARACTERS...\n", 1)[1])
    else:
        assert logged == full
    # the worker wrote the same evaluation folder `tradecore eval` does, with identical metrics
    assert json.loads((path / "metrics.json").read_text()) == expected
    assert (path / "eval.json").is_file() and (path / "report.html").is_file()


@pytest.mark.slow
def test_worker_refuses_a_run_outside_the_root(runs, tmp_path):
    proc, network = _worker({"input": {"run": str(tmp_path)}}, runs, tmp_path)
    assert proc.returncode == 1
    errors = [line for line in proc.stdout.splitlines() if line.startswith("ERROR  | Job local_test failed")]
    assert len(errors) == 1 and "outside the runs root" in errors[0] and "pickles" in errors[0]
    assert "Traceback" not in proc.stdout + proc.stderr and network == []
