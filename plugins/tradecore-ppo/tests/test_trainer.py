"""ppo-fast through tradecore's real pipeline: run folder, reproducibility, Ctrl-C/SIGTERM checkpoints, resume."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from tradecore.api import RunContext, TradecoreError


def _run(runtime, manifest, tmp_path):
    return runtime.run(manifest, runs_root=tmp_path, echo=lambda line: None)


def test_run_folder_is_complete_and_reproducible(runtime, tiny_manifest, tmp_path):
    first = _run(runtime, tiny_manifest, tmp_path)
    second = _run(runtime, tiny_manifest, tmp_path)
    assert first.complete and second.complete
    run = first.run_dir
    for name in (
        "model/model.pt",
        "model/best_model.pt",
        "checkpoints/latest.json",
        "training.csv",
        "metrics.json",
        "report.html",
        "plots/training.png",
    ):
        assert (run / name).exists(), name
    assert any((run / "tensorboard").rglob("events.out.tfevents.*"))
    record = json.loads((run / "run.json").read_text())
    trainer = record["trainer"]
    assert trainer["algo"] == "PPO" and trainer["timesteps"] == 2048 and trainer["trainer"] == "ppo-fast"
    assert trainer["evaluated_model"] == "best_model" and trainer["best_step"] in (1024, 2048)
    curve = (run / "training.csv").read_text().splitlines()
    assert curve[0] == "timesteps,validation_score,train_episode_return,best" and len(curve) == 3
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["evaluated_model"] == "best_model" and metrics["agent"]["total_return"] is not None
    # same manifest and seed on CPU: byte-identical metrics and weights
    assert (run / "metrics.json").read_bytes() == (second.run_dir / "metrics.json").read_bytes()
    assert (run / "model/model.pt").read_bytes() == (second.run_dir / "model/model.pt").read_bytes()


def test_early_stopping_ends_training(runtime, tiny_manifest, tmp_path):
    params = tiny_manifest["trainer"]["params"]
    params.update(total_timesteps=16384, eval_freq=512, early_stopping_patience=1, tensorboard=False)
    outcome = _run(runtime, tiny_manifest, tmp_path)
    trainer = json.loads((outcome.run_dir / "run.json").read_text())["trainer"]
    assert trainer["stopped_early"] is True and trainer["timesteps"] < 16384


def _train_and_signal(runtime, make_experiment, manifest, run_dir, sig):
    """Train in this process and send ``sig`` to it once the first periodic checkpoint exists."""
    resolved, experiment = make_experiment(manifest)
    trainer = resolved.trainer.build()
    ctx = RunContext(lake_root=".", seed=manifest["seed"], run_dir=run_dir)
    latest = run_dir / "checkpoints" / "latest.json"

    def signal_after_checkpoint():
        deadline = time.monotonic() + 120
        while not latest.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), sig)

    killer = threading.Thread(target=signal_after_checkpoint, daemon=True)
    killer.start()
    with pytest.raises(KeyboardInterrupt):
        trainer.train(experiment, ctx)
    killer.join()
    return trainer, experiment, ctx


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_leaves_a_checkpoint_and_resume_finishes(runtime, make_experiment, tiny_manifest, tmp_path, sig):
    params = tiny_manifest["trainer"]["params"]
    params.update(total_timesteps=400 * 512, checkpoint_freq=512, eval_freq=0, tensorboard=False)
    trainer, experiment, ctx = _train_and_signal(runtime, make_experiment, tiny_manifest, tmp_path, sig)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored
    latest = json.loads((tmp_path / "checkpoints" / "latest.json").read_text())
    assert latest["reason"] == "interrupted" and 0 < latest["timesteps"] < 400 * 512
    assert (tmp_path / "checkpoints" / latest["model"]).is_file()

    params["total_timesteps"] = latest["timesteps"] + 1024  # finish soon after the checkpoint
    resolved, experiment = make_experiment(tiny_manifest)
    result = resolved.trainer.build().train(experiment, ctx, resume=True)
    assert result.resumed and result.timesteps == latest["timesteps"] + 1024
    assert (tmp_path / "model" / "model.pt").is_file()


def test_resume_without_a_checkpoint_is_a_one_line_error(make_experiment, tiny_manifest, tmp_path):
    resolved, experiment = make_experiment(tiny_manifest)
    ctx = RunContext(lake_root=".", seed=3, run_dir=tmp_path)
    with pytest.raises(TradecoreError, match="has no checkpoint to resume from"):
        resolved.trainer.build().train(experiment, ctx, resume=True)


def test_saved_policy_loads_and_refuses_another_env(runtime, make_experiment, tiny_manifest, tmp_path):
    outcome = _run(runtime, tiny_manifest, tmp_path)
    resolved, experiment = make_experiment(tiny_manifest)
    trainer = resolved.trainer.build()
    policy = trainer.load_policy(outcome.run_dir, experiment)
    obs, _ = experiment.make_vec_env("test", 3, seed=0).reset(seed=0)
    assert policy.wants_masks and policy.act(obs).shape == (3, 3)

    tiny_manifest["env"]["window"] = 12
    _, other = make_experiment(tiny_manifest)
    with pytest.raises(TradecoreError, match=r"trained on observations .* evaluate with the run's own window"):
        trainer.load_policy(outcome.run_dir, other)
    junk = Path(tmp_path / "junk.pt")
    junk.write_bytes(b"not a model")
    with pytest.raises(TradecoreError, match="cannot load ppo-fast model"):
        trainer.load_policy_file(junk, experiment)
