"""Fixtures for the ppo-fast plugin: a runtime that has it registered, a tiny manifest, its experiment."""

from __future__ import annotations

import copy
from typing import Any

import pytest

TINY: dict[str, Any] = {
    "version": 1,
    "name": "tiny-fast",
    "seed": 3,
    "source": {"type": "synthetic", "params": {"bars": 1500, "timeframe": "1h", "seed": 11}},
    "indicators": [{"type": "log_returns", "params": {"period": 1}}, {"type": "rsi", "params": {"period": 14}}],
    "env": {
        "window": 8,
        "episode_steps": 48,
        "normalize_window": 100,
        "actions": {"direction": True, "size_buckets": [0.5, 1.0], "stop_loss_pct": [0.02, 0.05]},
    },
    "reward": [{"type": "pnl"}, {"type": "turnover", "weight": 0.001}],
    "split": {"train": 0.6, "validation": 0.2, "test": 0.2},
    "trainer": {
        "type": "ppo-fast",
        "params": {
            "total_timesteps": 2048,
            "n_envs": 16,
            "n_steps": 32,
            "n_epochs": 2,
            "n_minibatches": 2,
            "eval_freq": 1024,
            "checkpoint_freq": 1024,
        },
    },
}


@pytest.fixture
def tiny_manifest() -> dict[str, Any]:
    return copy.deepcopy(TINY)


@pytest.fixture
def runtime() -> Any:
    """Built-ins plus this plugin registered directly, so the tests need no installed entry point."""
    import tradecore_ppo.hooks

    from tradecore.api import Runtime

    return Runtime(plugins=[tradecore_ppo.hooks], entrypoints=False)


@pytest.fixture
def make_experiment(runtime):
    """``make_experiment(manifest)`` -> (resolved manifest, Experiment)."""
    from tradecore.api import Candles, RunContext, build_experiment

    def make(manifest: dict[str, Any]) -> tuple[Any, Any]:
        resolved = runtime.resolve(manifest)
        ctx = RunContext(lake_root=".", seed=manifest["seed"])
        candles = Candles.from_frame(resolved.source.build().load(ctx), "1h")
        return resolved, build_experiment(resolved, candles, ctx)

    return make
