"""ppo-fast on the portfolio env (env.type portfolio): Dict observations of (assets, window, features) and the
account, Box target weights or MultiDiscrete weight buckets (masked), through tradecore's real pipeline."""

from __future__ import annotations

import json

import pytest

MANIFEST = {
    "version": 1,
    "name": "fast-portfolio",
    "seed": 4,
    "source": {
        "type": "synthetic",
        "params": {"symbols": ["AAA/USD", "BBB/USD", "CCC/USD"], "bars": 1200, "seed": 8, "correlation": 0.4},
    },
    "indicators": [{"type": "log_returns", "params": {"period": 12}}],
    "env": {"type": "portfolio", "window": 8, "episode_steps": 48, "normalize_window": 100, "fee_bps": 10},
    "reward": [{"type": "pnl"}],
    "split": {"train": 0.6, "validation": 0.2, "test": 0.2},
    "trainer": {
        "type": "ppo-fast",
        "params": {
            "total_timesteps": 1024,
            "n_envs": 16,
            "n_steps": 32,
            "n_epochs": 1,
            "n_minibatches": 2,
            "eval_freq": 512,
            "checkpoint_freq": 0,
            "tensorboard": False,
        },
    },
}


@pytest.mark.parametrize("mode", ["continuous", "discrete"])
def test_ppo_fast_trains_and_evaluates_a_portfolio(runtime, tmp_path, mode):
    manifest = json.loads(json.dumps(MANIFEST))
    manifest["env"]["actions"] = {"mode": mode}
    outcome = runtime.run(manifest, runs_root=tmp_path, echo=lambda line: None)
    assert outcome.complete
    record = json.loads((outcome.run_dir / "run.json").read_text())
    assert record["trainer"]["trainer"] == "ppo-fast" and record["trainer"]["timesteps"] == 1024
    assert record["trainer"]["best_validation_return"] is not None
    metrics = outcome.metrics
    assert metrics["symbols"] == ["AAA/USD", "BBB/USD", "CCC/USD"]
    assert {"cash", "equal_weight", "buy_and_hold", "inverse_volatility", "random"} == set(metrics["baselines"])
    assert set(metrics["agent"]["assets"]) == set(metrics["symbols"])
    # the evaluate stage loaded the saved policy against the portfolio env and stepped it over the test split
    assert (outcome.run_dir / "model" / "best_model.pt").is_file() and metrics["evaluated_model"] == "best_model"
    assert metrics["agent"]["trades"] > 0 and metrics["agent"]["turnover"] > 0
