"""Bad input gets one line naming the problem and the fix: missing/incomplete runs, untrusted models,
models from another env shape, GPU without one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tradecore.errors import TradecoreError


def tradecore(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tradecore", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_missing_run_folder_is_one_line(tmp_path):
    result = tradecore("runs", "show", "nope", "--runs-dir", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_incomplete_run_folder(tmp_path):
    run = tmp_path / "20260101T000000Z-half"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"status": "interrupted"}))
    (run / "manifest.json").write_text("{}")
    result = tradecore("eval", run.name, "--runs-dir", str(tmp_path))
    assert result.returncode == 1 and "incomplete" in result.stderr and "--resume" in result.stderr


def test_cuda_without_gpu_is_a_clear_error(runtime, tiny_manifest, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    tiny_manifest["trainer"]["params"]["device"] = "cuda"
    with pytest.raises(TradecoreError, match="no CUDA GPU.*auto"):
        runtime.run(tiny_manifest, runs_root=tmp_path, echo=lambda _: None)


def test_validation_rejects_hyperparameters_of_another_algorithm(runtime, tiny_manifest):
    tiny_manifest["trainer"]["params"] = {"algo": "DQN", "n_epochs": 3}
    with pytest.raises(TradecoreError, match="n_epochs does not apply to DQN"):
        runtime.resolve(tiny_manifest)


def test_validate_does_not_import_torch_or_sb3():
    code = (
        "import sys; from tradecore.cli import main\n"
        "try:\n    main(['validate', 'examples/quickstart.json'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'stable_baselines3', 'sb3_contrib') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr


@pytest.mark.slow
def test_untrusted_model_and_wrong_env_shape(runtime, tiny_manifest, tmp_path):
    outcome = runtime.run(tiny_manifest, runs_root=tmp_path / "runs", echo=lambda _: None)
    run = outcome.run_dir
    # a run folder outside the runs root is refused unless --trust-model
    elsewhere = tmp_path / "downloaded"
    result = tradecore("eval", str(run), "--runs-dir", str(elsewhere))
    assert result.returncode == 1 and "pickles" in result.stderr and "--trust-model" in result.stderr
    model = run / "model" / "model.zip"
    result = tradecore("eval", run.name, "--runs-dir", str(tmp_path / "runs"), "--model", str(model))
    assert result.returncode == 0, result.stderr
    copied = tmp_path / "model.zip"
    copied.write_bytes(model.read_bytes())
    result = tradecore("eval", run.name, "--runs-dir", str(tmp_path / "runs"), "--model", str(copied))
    assert result.returncode == 1 and "pickles" in result.stderr
    result = tradecore("eval", run.name, "--runs-dir", str(tmp_path / "runs"), "--model", str(copied), "--trust-model")
    assert result.returncode == 0, result.stderr
    # the same model on an env with another window: refused with the reason
    from tradecore.runs import folder as rf

    manifest = rf.read_json(run / rf.INPUT_MANIFEST_FILE)
    manifest["env"]["window"] = 12
    resolved = runtime.resolve(manifest)
    from tradecore.env.experiment import build_experiment
    from tradecore.interfaces import Candles, RunContext

    ctx = RunContext(lake_root=tmp_path, seed=0)
    frame = resolved.source.build().load(ctx)
    experiment = build_experiment(resolved, Candles.from_frame(frame, "1h"), ctx)
    with pytest.raises(TradecoreError, match=r"trained on observations .*\(8, 2\).*\(12, 2\)"):
        resolved.trainer.build().load_policy(run, experiment)
