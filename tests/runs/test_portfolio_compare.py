"""The agent through the portfolio env and the baselines' fills agree: same bars, costs and arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from tradecore.interfaces import RunContext

portfolio_experiment = pytest.importorskip("tradecore.env.portfolio_experiment")  # the portfolio env's branch

MANIFEST = {
    "version": 1,
    "name": "portfolio-eval",
    "seed": 1,
    "source": {
        "type": "synthetic",
        "params": {"symbols": ["AAA/USD", "BBB/USD", "CCC/USD"], "bars": 3000, "seed": 3, "correlation": 0.5},
    },
    "indicators": [{"type": "log_returns", "params": {"period": 24}}],
    "env": {"type": "portfolio", "window": 8, "fee_bps": 10, "slippage_bps": 2, "no_trade_band": 0.01},
    "reward": [{"type": "pnl"}],
    "split": {"train": 0.6, "validation": 0.2, "test": 0.2},
}


class EqualWeights:
    """A policy stating 1/3 per asset and no cash every bar (the env's normalize mapping: (a + 1) / 2)."""

    wants_masks = False

    def reset(self, num_envs: int) -> None:
        pass

    def act(self, obs, *, masks=None, bars=None):
        return np.array([[1 / 3, 1 / 3, 1 / 3, 0.0]]) * 2 - 1


def test_equal_weight_through_the_env_matches_the_equal_weight_baseline(runtime, tmp_path):
    from tradecore.runs.compare import judge
    from tradecore.runs.portfolio_compare import run_portfolio_policies

    resolved = runtime.resolve(MANIFEST)
    ctx = RunContext(lake_root=tmp_path, seed=0)
    experiment = portfolio_experiment.build_portfolio_experiment(
        resolved, portfolio_experiment.load_aligned(resolved, ctx)
    )
    rollouts = run_portfolio_policies(experiment, "test", EqualWeights())
    agent, baseline = rollouts["agent"], rollouts["equal_weight"]
    np.testing.assert_allclose(agent.equity, baseline.equity, rtol=1e-12)
    for key in ("weights", "asset_pnl", "asset_costs", "traded"):
        np.testing.assert_allclose(agent.assets[key], baseline.assets[key], rtol=1e-9, atol=1e-9, err_msg=key)
    metrics = judge(rollouts, experiment.timeframe, split="test")
    contribution = sum(a["contribution"] for a in metrics["agent"]["assets"].values())
    assert contribution == pytest.approx(metrics["agent"]["total_return"], abs=1e-12)
    assert metrics["baselines"]["cash"]["total_return"] == 0.0


def test_gymnasium_make_builds_the_portfolio_env_from_a_portfolio_manifest(runtime):
    from tradecore.env.portfolio import PortfolioEnv
    from tradecore.gymnasium_env import make_trading_env

    env = make_trading_env(MANIFEST, "validation", runtime=runtime, episode_steps=16)
    assert isinstance(env, PortfolioEnv) and env.action_space.shape == (4,)  # three assets and cash
    obs, _ = env.reset(seed=0)
    assert obs["market"].shape == (3, 8, 1)
