"""SB3 trains on the portfolio env through the sb3 trainer: a tiny real training per algorithm, a saved model, and
its deterministic rollout through the portfolio evaluation (weights on the simplex, attribution summing up)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tradecore.interfaces import RunContext

SMALL_NET = {"net_arch": [32, 32]}
OFF_POLICY = {"learning_starts": 64, "buffer_size": 2000, "batch_size": 32, "train_freq": 4, **SMALL_NET}
CASES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "PPO": ("PPO", "continuous", {"n_steps": 64, "batch_size": 64, "n_epochs": 1, **SMALL_NET}),
    "SAC": ("SAC", "continuous", OFF_POLICY),
    "TD3": ("TD3", "continuous", OFF_POLICY),
    "PPO-buckets": ("PPO", "discrete", {"n_steps": 64, "batch_size": 64, "n_epochs": 1, **SMALL_NET}),
    "MaskablePPO": ("MaskablePPO", "discrete", {"n_steps": 64, "batch_size": 64, "n_epochs": 1, **SMALL_NET}),
}
STEPS = 256
MANIFEST: dict[str, Any] = {
    "version": 1,
    "name": "portfolio-training",
    "seed": 2,
    "source": {
        "type": "synthetic",
        "params": {"symbols": ["AAA/USD", "BBB/USD", "CCC/USD"], "bars": 900, "seed": 5, "correlation": 0.4},
    },
    "indicators": [{"type": "log_returns", "params": {"period": 12}}],
    "env": {"type": "portfolio", "window": 8, "episode_steps": 64, "normalize_window": 50, "fee_bps": 10},
    "reward": [{"type": "pnl"}, {"type": "turnover", "weight": 0.001}],
    "split": {"train": 0.6, "validation": 0.2, "test": 0.2},
}


@pytest.fixture(scope="module")
def aligned(tmp_path_factory):
    from tradecore.env.portfolio_experiment import load_aligned
    from tradecore.runtime import Runtime

    resolved = Runtime(entrypoints=True).resolve(MANIFEST)
    return load_aligned(resolved, RunContext(lake_root=tmp_path_factory.mktemp("lake"), seed=0))


@pytest.mark.parametrize("case", list(CASES))
def test_sb3_trains_on_the_portfolio_env_and_its_agent_is_evaluated(case, runtime, aligned, tmp_path):
    from tradecore.env.portfolio_experiment import build_portfolio_experiment
    from tradecore.runs.compare import judge
    from tradecore.runs.evaluate import rollout

    algo, mode, params = CASES[case]
    manifest = copy.deepcopy(MANIFEST)
    manifest["env"]["actions"] = {"mode": mode}
    manifest["trainer"] = {
        "type": "sb3",
        "params": {
            "algo": algo,
            "total_timesteps": STEPS,
            "n_envs": 2,
            "eval_freq": STEPS // 2,
            "checkpoint_freq": 0,
            "tensorboard": False,
            **params,
        },
    }
    resolved = runtime.resolve(manifest)
    experiment = build_portfolio_experiment(resolved, aligned)
    trainer = resolved.trainer.build()
    result = trainer.train(experiment, RunContext(lake_root=tmp_path, seed=2, run_dir=tmp_path))

    assert result.algo == algo and result.timesteps >= STEPS
    assert result.best_validation_return is not None  # scored by the portfolio rollout of the validation split
    assert (tmp_path / "model" / "best_model.zip").is_file()
    policy = trainer.load_policy(tmp_path, experiment)
    assert type(policy.codec.sb3_space).__name__ == ("Box" if mode == "continuous" else "MultiDiscrete")
    evaluated = rollout(experiment, "test", policy)
    weights = evaluated.assets["weights"]
    assert weights.shape == (len(evaluated.equity) - 1, 3) and len(weights) > 100
    assert weights.min() >= -1e-9 and weights.sum(axis=1).max() <= 1.0 + 1e-6  # long-only, on the simplex
    metrics = judge({"agent": evaluated}, experiment.timeframe, split="test")["agent"]
    assert sum(a["contribution"] for a in metrics["assets"].values()) == pytest.approx(metrics["total_return"])
