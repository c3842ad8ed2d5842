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
