"""A portfolio run's evaluation: the agent through the portfolio env, the baselines on the same bars and costs.

The agent steps one :class:`~tradecore.env.portfolio.PortfolioEnv` over the whole split; after each step the
units it holds and each asset's cumulative costs are read from the env's engine, and with the bar's prices
they give the per-asset record (weights, profit, costs, traded notional) of
:class:`~tradecore.runs.portfolio_baselines.Fills`. The baselines' weight schedules are filled with the env's
rules (:func:`~tradecore.runs.portfolio_baselines.execute_weights`) from the same initial equity on the same
bars, so their rollouts line up with the agent's step for step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tradecore.interfaces import Policy
from tradecore.runs.portfolio_baselines import Fills, baseline_schedules, execute_weights, fills_from_holdings
from tradecore.runs.portfolio_eval import rollout_from_fills
from tradecore.runs.rollout_record import Rollout


def _steps(experiment: Any, split: str) -> tuple[Any, np.ndarray]:
    """(a fresh env over the whole split, the market rows each step fills and marks at)."""
    env = experiment.make_env(split, random_start=False, episode_steps=None)
    bounds = env.engine.bounds
    n0 = experiment.split_range(split).start
    return env, n0 + np.arange(bounds.first_start + 1, bounds.rows, dtype=np.int64)


def _rollout(experiment: Any, fills: Fills, rows: np.ndarray) -> Rollout:
    span = np.concatenate(([rows[0] - 1], rows))
    close = experiment.market.prices[:, span, 3].T
    return rollout_from_fills(fills, close, experiment.market.time[span], tuple(experiment.market.symbols))


def portfolio_rollout(experiment: Any, split: str, policy: Policy, *, seed: int = 0) -> Rollout:
    """Run ``policy`` deterministically over every bar of ``split`` in the portfolio env and record it."""
    env, rows = _steps(experiment, split)
    prices, engine = experiment.market.prices, env.engine
    steps, assets = len(rows), experiment.market.assets
    equity = np.empty(steps + 1)
    equity[0] = engine.initial_equity
    held = np.zeros((steps + 1, assets))  # units after each step (row 0: the start)
    paid = np.zeros((steps + 1, assets))  # cumulative fees + slippage per asset
    fees, slippage, reward = np.zeros(steps), np.zeros(steps), np.zeros(steps)
    terms = {name: np.zeros(steps) for name in experiment.reward_names}
    obs, info = env.reset(seed=seed)
    policy.reset(1)
    masked = policy.wants_masks and experiment.config.actions.mode == "discrete"
    done = steps
    for j in range(steps):
        batch = {k: v[None] for k, v in obs.items()} if isinstance(obs, dict) else obs[None]
        masks = env.action_masks()[None] if masked else None
        action = policy.act(batch, masks=masks, bars=np.array([info.get("bar", 0)]))[0]
        obs, r, terminated, truncated, info = env.step(action)
        equity[j + 1], fees[j], slippage[j], reward[j] = info["equity"], info["fee"], info["slippage"], r
        for name in terms:
            terms[name][j] = info["reward_terms"][name]
        held[j + 1], paid[j + 1] = engine.positions(0), engine.costs_by_asset(0)
        if terminated:  # ruin or the drawdown stop: flat from here on
            done = j + 1
            break
    if done < steps:
        equity[done + 1 :] = equity[done]
        held[done + 1 :] = held[done]
        paid[done + 1 :] = paid[done]
    fills = fills_from_holdings(prices, rows, equity, held, paid, fees, slippage)
    fills.weights[done:], fills.pnl[done:] = 0.0, 0.0  # after a stop the record is flat: equity no longer moves
    out = _rollout(experiment, fills, rows)
    out.reward, out.reward_terms = reward, terms
    return out


def portfolio_baselines(experiment: Any, split: str) -> dict[str, Rollout]:
    """Rollouts of every portfolio baseline over ``split``, filled with the env's costs and rules."""
    _, rows = _steps(experiment, split)
    market, config = experiment.market, experiment.config
    symbols = list(market.symbols)
    closes = market.prices[:, :, 3].T
    costs = {
        "fee_rate": np.array(config.cost_bps("fee_bps", symbols)) / 1e4,
        "slippage": np.array(config.cost_bps("slippage_bps", symbols)) / 1e4,
    }
    out = {}
    for name, schedule in baseline_schedules(closes, rows - 1).items():
        fills = execute_weights(
            market.prices,
            schedule,
            rows,
            initial_equity=config.initial_equity,
            min_order=config.min_order,
            band=config.no_trade_band,
            traded=market.traded,
            **costs,
        )
        out[name] = _rollout(experiment, fills, rows)
        if config.max_drawdown is not None and name != "cash" and not name.startswith("random_"):
            out[name].note = f"held without the agent's env.max_drawdown stop ({config.max_drawdown:.0%})"
    return out


def run_portfolio_policies(experiment: Any, split: str, agent: Policy | None, *, seed: int = 0) -> dict[str, Rollout]:
    """Rollouts of the agent (when given) and every portfolio baseline over ``split``."""
    out = {"agent": portfolio_rollout(experiment, split, agent, seed=seed)} if agent is not None else {}
    return {**out, **portfolio_baselines(experiment, split)}
