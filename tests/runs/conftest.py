"""Fixtures for run-folder tests: a tiny, fast manifest trained by the real sb3 trainer."""

from __future__ import annotations

import copy
from typing import Any

import pytest

TINY: dict[str, Any] = {
    "version": 1,
    "name": "tiny",
    "seed": 3,
    "source": {"type": "synthetic", "params": {"bars": 1500, "timeframe": "1h", "seed": 11}},
    "indicators": [{"type": "log_returns", "params": {"period": 1}}, {"type": "rsi", "params": {"period": 14}}],
    "env": {
        "window": 8,
        "episode_steps": 128,
        "normalize_window": 100,
        "actions": {"direction": True, "size_buckets": [0.5, 1.0], "stop_loss_pct": [0.02, 0.05]},
    },
    "reward": [{"type": "pnl"}, {"type": "turnover", "weight": 0.001}],
    "split": {"train": 0.6, "validation": 0.2, "test": 0.2},
    "trainer": {
        "type": "sb3",
        "params": {
            "algo": "PPO",
            "total_timesteps": 512,
            "n_envs": 2,
            "n_steps": 128,
            "batch_size": 64,
            "n_epochs": 2,
            "eval_freq": 256,
            "checkpoint_freq": 256,
        },
    },
}


@pytest.fixture
def tiny_manifest() -> dict[str, Any]:
    return copy.deepcopy(TINY)


@pytest.fixture
def runtime() -> Any:
    from tradecore.runtime import Runtime

    return Runtime(entrypoints=True)


@pytest.fixture(scope="session")
def tiny_run_dir(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A complete run folder of TINY trained for a token 64 steps (once per session): real rollouts, report,
    training curve, for tests that read a run folder rather than the training itself."""
    from tradecore.runtime import Runtime

    manifest = copy.deepcopy(TINY)
    manifest["trainer"]["params"].update(
        total_timesteps=64, n_steps=32, batch_size=32, n_epochs=1, eval_freq=32, checkpoint_freq=64
    )
    outcome = Runtime(entrypoints=True).run(manifest, runs_root=tmp_path_factory.mktemp("runs"), echo=lambda _: None)
    assert outcome.complete
    return outcome.run_dir
