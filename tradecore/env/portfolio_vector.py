"""BatchedPortfolioEnv: ``num_envs`` portfolio envs stepped together by one kernel call.

The batch is a :class:`tradecore.env.portfolio_engine.PortfolioEngine` of ``num_envs`` envs; the single
:class:`~tradecore.env.portfolio.PortfolioEnv` is the same engine with one env, so sub-env ``i`` seeded
``seed + i`` and given the same actions produces the same observations, rewards and infos as a single env
reset with ``seed + i``, bit for bit. Autoreset: ``AutoresetMode.SAME_STEP`` with ``infos["final_obs"]``,
as :class:`tradecore.env.vector.BatchedTradingEnv` does. Actions: ``(num_envs, dims)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from tradecore.config.env import PortfolioEnvConfig
from tradecore.env import kernels as K
from tradecore.env import portfolio_kernels as P
from tradecore.env.engine import TermFactory
from tradecore.env.portfolio import bucket_masks, portfolio_action_space, portfolio_observation_space
from tradecore.env.portfolio_engine import PortfolioEngine, PortfolioMarket
from tradecore.errors import TradecoreError

_UNSET: Any = object()


class BatchedPortfolioEnv(VectorEnv):
    """A batch of portfolio envs over one split."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(
        self,
        market: PortfolioMarket,
        config: PortfolioEnvConfig,
        terms: Sequence[tuple[str, float, TermFactory]],
        num_envs: int,
        *,
        split: range | None = None,
        split_name: str = "data",
        random_start: bool | None = None,
        episode_steps: int | None = _UNSET,
        seed: int | None = None,
    ) -> None:
        self.split = split if split is not None else range(len(market))
        self.split_name = split_name
        self.config = config
        self.market = market
        self.random_start = config.random_start if random_start is None else bool(random_start)
        self.episode_steps = config.episode_steps if episode_steps is _UNSET else episode_steps
        self.engine = PortfolioEngine(
            market, config, self.split, terms, num_envs, episode_steps=self.episode_steps, split_name=split_name
        )
        self.num_envs = n = self.engine.num_envs
        self.single_action_space = portfolio_action_space(config, market.assets)
        self.action_space = batch_space(self.single_action_space, n)
        self.single_observation_space = portfolio_observation_space(config, market.assets, market.features.shape[2])
        self.observation_space = batch_space(self.single_observation_space, n)
        self._rngs = [seeding.np_random(None if seed is None else seed + i)[0] for i in range(n)]
        self._all = np.ones(n, dtype=bool)
        self._indices = np.arange(n)
        self._flat = self.engine.flat
        self._dims = self.single_action_space.shape[0]
        self._actions = self.engine.actions.T  # ``(num_envs, dims)``: a step copies the actions into it
        self._term_rows = tuple((name, K.OUT_FIELDS + k) for k, name in enumerate(self.engine.terms.names))
        self.engine.start(self._all, self.engine.bounds.first_start)

    def reset(self, *, seed: int | Sequence[int] | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            seeds = [seed + i for i in range(self.num_envs)] if isinstance(seed, int) else list(seed)
            if len(seeds) != self.num_envs:
                raise TradecoreError(f"reset seed list has {len(seeds)} seeds for {self.num_envs} envs")
            self._rngs = [seeding.np_random(s)[0] for s in seeds]
        if options and options.get("start") is not None:
            starts = np.broadcast_to(np.asarray(options["start"], dtype=np.int64), (self.num_envs,))
            for start in starts.tolist():
                self.engine.bounds.check_start(start)
            self.engine.start(self._all, starts)
        else:
            self._restart(self._all)
        engine = self.engine
        row = engine.take_row()
        engine.observe(self._indices, row)
        return self._observation(row), {
            "equity": np.full(self.num_envs, engine.initial_equity),
            "bar": self.split.start + engine.current_bars(),
        }

    def _restart(self, rows: np.ndarray) -> None:
        bounds = self.engine.bounds
        if self.random_start:
            starts = [bounds.draw(self._rngs[i]) for i in np.flatnonzero(rows).tolist()]
        else:
            starts = bounds.first_start
        self.engine.start(rows, starts)

    def step(self, actions):
        engine = self.engine
        self._actions[...] = np.asarray(actions).reshape(self.num_envs, self._dims)
        row, ended = engine.step()
        out, flags = engine.out[row], engine.flags[row]
        infos: dict[str, Any] = {
            "equity": out[P.O_EQUITY_ABS],
            "fee": out[P.O_FEE_ABS],
            "slippage": out[P.O_SLIPPAGE_ABS],
            "turnover": out[K.O_TURNOVER],
            "gross_exposure": out[K.O_EXPOSURE],
            "cash_weight": out[P.O_CASH_WEIGHT],
            "concentration": out[P.O_CONCENTRATION],
            "weights": engine.weights[row],
            "trade": flags[P.F_TRADE],
            "reward_terms": {name: out[k] for name, k in self._term_rows},
            "bar": engine.bars[row],
        }
        if ended:
            self._autoreset(row, infos)
        return self._observation(row), out[K.O_REWARD], flags[P.F_TERMINATED], flags[P.F_TRUNCATED], infos

    def _autoreset(self, row: int, infos: dict[str, Any]) -> None:
        engine = self.engine
        done = engine.flags[row, P.F_DONE]
        ended = np.flatnonzero(done)
        final_market, final_account = engine.market[row, ended], engine.account[row, ended]
        final_obs = np.full(self.num_envs, None, dtype=object)
        for j, i in enumerate(ended.tolist()):
            final_obs[i] = final_market[j] if self._flat else {"market": final_market[j], "account": final_account[j]}
        infos["final_obs"] = final_obs
        infos["_final_obs"] = done
        self._restart(done)
        engine.observe(ended, row)

    def _observation(self, row: int):
        if self._flat:
            return self.engine.market[row]
        return {"market": self.engine.market[row], "account": self.engine.account[row]}

    def action_masks(self) -> np.ndarray:
        """Per sub-env bucket masks, ``(num_envs, assets * len(buckets))`` (MaskablePPO format)."""
        return np.tile(bucket_masks(self.config, self.market.assets), (self.num_envs, 1))
