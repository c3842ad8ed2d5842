"""PortfolioEnv: one account allocating across many assets, bar by bar, rebalanced at the next bar's open.

The env is the one-env case of :class:`tradecore.env.portfolio_engine.PortfolioEngine`; the execution model
(rebalancing, fees, slippage, the no-trade band, minimum orders, marking) is documented and implemented in
:mod:`tradecore.env.portfolio_execution`. Per step:

1. The observation at step ``t`` uses bars ``<= t`` only: every asset's feature rows ``t-window+1 .. t``
   (``market``: ``(assets, window, features)``) and the account at the closes of ``t`` (``account``: each
   asset's weight, the cash weight, log equity, drawdown).
2. The action chosen at ``t`` states target weights; the rebalance fills at the opens of ``t+1``.
3. Equity is marked at the closes of ``t+1``; the reward is the weighted sum of the reward terms (portfolio
   log/simple return net of costs, drawdown, turnover, differential Sharpe, concentration, ...), each
   term's share in ``info["reward_terms"]``.
4. ``terminated`` on ruin or at ``max_drawdown``; ``truncated`` at ``episode_steps`` or the split's end.

Actions (``env.actions``):

- ``continuous``, long-only (default): ``Box(-1, 1, (assets + 1,))``, one value per asset then cash, mapped
  onto the simplex: ``normalize`` (default) takes ``(a + 1) / 2`` over its sum (all zero: all cash);
  ``softmax`` takes FinRL's softmax of the values.
- ``continuous`` with ``allow_short``: ``Box(-1, 1, (assets,))``, signed weights, scaled down together when
  their gross sum exceeds ``max_gross``; cash is what is left.
- ``discrete``: ``MultiDiscrete([len(buckets)] * assets)``, each asset's weight from ``actions.buckets``,
  scaled down together to ``max_gross``; :meth:`PortfolioEnv.action_masks` for MaskablePPO.

Episodes start like :class:`tradecore.env.trading.TradingEnv`'s: at the first bar with a full window or,
with ``random_start``, at a bar drawn from ``self.np_random``; ``reset(seed=...)`` determines the episode.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from tradecore.config.env import PortfolioEnvConfig
from tradecore.env import kernels as K
from tradecore.env import portfolio_kernels as P
from tradecore.env.engine import TermFactory
from tradecore.env.portfolio_engine import PortfolioEngine, PortfolioMarket, action_dims
from tradecore.env.portfolio_execution import ACCOUNT_TAIL

_UNSET: Any = object()
#: a step's reward and info floats from its row of ``engine.out``, in :meth:`PortfolioEnv.step`'s order
_pick_values = itemgetter(
    K.O_REWARD,
    P.O_EQUITY_ABS,
    P.O_FEE_ABS,
    P.O_SLIPPAGE_ABS,
    K.O_TURNOVER,
    K.O_EXPOSURE,
    P.O_CASH_WEIGHT,
    P.O_CONCENTRATION,
)


class PortfolioEnv(gym.Env):
    """The single portfolio env. Build it through :meth:`PortfolioExperiment.make_env`."""

    metadata = {"render_modes": []}

    def __init__(
        self,
        market: PortfolioMarket,
        config: PortfolioEnvConfig,
        terms: Sequence[tuple[str, float, TermFactory]],
        *,
        split: range | None = None,
        split_name: str = "data",
        random_start: bool | None = None,
        episode_steps: int | None = _UNSET,
    ) -> None:
        super().__init__()
        self.split = split if split is not None else range(len(market))
        self.split_name = split_name
        self.config = config
        self.market = market
        self.window = config.window
        self.random_start = config.random_start if random_start is None else bool(random_start)
        self.episode_steps = config.episode_steps if episode_steps is _UNSET else episode_steps
        self.engine = PortfolioEngine(
            market, config, self.split, terms, 1, episode_steps=self.episode_steps, split_name=split_name
        )
        self.action_space = portfolio_action_space(config, market.assets)
        self.observation_space = portfolio_observation_space(config, market.assets, market.features.shape[2])
        self.account_names = account_names(market.symbols)
        self._all = np.ones(1, dtype=bool)
        self._first_env = np.zeros(1, dtype=np.int64)
        self._action = self.engine.actions[:, 0]  # the engine's action column: a step writes into it
        self._names = self.engine.terms.names
        self._flat = self.engine.flat
        self._first_bar = self.split.start
        self.engine.start(self._all, self.engine.bounds.first_start)
        self._t = self._start = self.engine.bounds.first_start

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        bounds = self.engine.bounds
        if options and options.get("start") is not None:
            start = bounds.check_start(int(options["start"]))
        elif self.random_start:
            start = bounds.draw(self.np_random)
        else:
            start = bounds.first_start
        self.engine.start(self._all, start)
        self._t = self._start = start
        row = self.engine.take_row()
        self.engine.observe(self._first_env, row)
        bar = self.split.start + start
        info = {
            "equity": self.engine.initial_equity,
            "weights": np.zeros(self.market.assets),
            "bar": bar,
            "time": int(self.market.time[bar]),
        }
        return self._observation(row), info

    def step(self, action):
        # the hot path: one kernel call, one list of the step's floats, views of the engine's row (never
        # overwritten while referenced: tradecore.env.blocks)
        self._action[:] = np.asarray(action).reshape(-1)  # any shape holding the action's values
        engine = self.engine
        row = engine.step()[0]
        self._t += 1
        values = engine.out[row, :, 0].tolist()
        reward, equity, fee, slippage, turnover, gross, cash, concentration = _pick_values(values)
        terminated, truncated, trade = engine.flags[row, P.F_TERMINATED :, 0].tolist()
        info = {
            "equity": equity,
            "fee": fee,
            "slippage": slippage,
            "turnover": turnover,
            "gross_exposure": gross,
            "cash_weight": cash,
            "concentration": concentration,
            "weights": engine.weights[row, 0],
            "trade": trade,
            "reward_terms": dict(zip(self._names, values[K.OUT_FIELDS :])),
            "bar": self._first_bar + self._t,
        }
        if self._flat:
            return engine.market[row, 0], reward, terminated, truncated, info
        return {"market": engine.market[row, 0], "account": engine.account[row, 0]}, reward, terminated, truncated, info

    def _observation(self, row: int):
        if self._flat:
            return self.engine.market[row, 0]
        return {"market": self.engine.market[row, 0], "account": self.engine.account[row, 0]}

    def action_masks(self) -> np.ndarray:
        """Discrete mode: every asset's bucket mask, concatenated (MaskablePPO's MultiDiscrete format)."""
        return bucket_masks(self.config, self.market.assets)

    def costs_by_asset(self) -> np.ndarray:
        """Fees plus slippage paid per asset this episode (quote currency)."""
        return self.engine.costs_by_asset(0)


def bucket_masks(config: PortfolioEnvConfig, assets: int) -> np.ndarray:
    """Buckets an asset may choose: those whose |weight| is within ``max_gross`` (shorts only with
    ``allow_short``), the same for every asset and bar."""
    buckets = np.asarray(config.actions.buckets)
    ok = (np.abs(buckets) <= config.max_gross) & ((buckets >= 0) | config.allow_short)
    return np.tile(ok, assets)


def portfolio_action_space(config: PortfolioEnvConfig, assets: int) -> spaces.Space:
    if config.actions.mode == "discrete":
        return spaces.MultiDiscrete([len(config.actions.buckets)] * assets)
    return spaces.Box(-1.0, 1.0, (action_dims(config, assets),), np.float32)


def portfolio_observation_space(config: PortfolioEnvConfig, assets: int, n_features: int) -> spaces.Space:
    account = assets + P.ACCOUNT_EXTRA
    if config.observation == "flat":
        return spaces.Box(-np.inf, np.inf, (assets * config.window * n_features + account,), np.float32)
    return spaces.Dict(
        {
            "market": spaces.Box(-np.inf, np.inf, (assets, config.window, n_features), np.float32),
            "account": spaces.Box(-np.inf, np.inf, (account,), np.float32),
        }
    )


def account_names(symbols: Sequence[str]) -> list[str]:
    """The account part of an observation, in order: ``weight:<asset>`` per asset, then the account tail."""
    return [f"weight:{s}" for s in symbols] + list(ACCOUNT_TAIL)
