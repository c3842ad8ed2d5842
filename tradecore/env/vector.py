"""BatchedTradingEnv: ``num_envs`` trading envs stepped together by one kernel call.

The batch is an :class:`tradecore.env.engine.Engine` of ``num_envs`` envs; the single
:class:`~tradecore.env.trading.TradingEnv` is the same engine with one env, so a sub-env seeded
``seed + i`` and given the same actions produces the same observations, rewards and flags as a single
env reset with ``seed + i``, bit for bit.

Autoreset: ``AutoresetMode.SAME_STEP``. When a sub-env's episode ends, the observation returned for it
is already the first observation of its next episode (start drawn from that sub-env's own generator,
like ``TradingEnv.reset()`` without a seed); the final observation is in ``infos["final_obs"]`` (an
object array, masked by ``infos["_final_obs"]``). The other info arrays describe the step just taken
for every sub-env, ended or not. This is the convention SB3's ``VecEnv`` uses (``terminal_observation``).

Actions: the batched ``Dict`` (one int array per head), or an ``(num_envs, heads)`` integer array in
head order (the MultiDiscrete flattening); continuous mode takes ``(num_envs, k)`` floats.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from tradecore.config.env import EnvConfig
from tradecore.env.actions import head_masks
from tradecore.env.engine import Engine, TermFactory
from tradecore.env.kernels import (
    F_CLOSED,
    F_DONE,
    F_OPENED,
    F_STOP_HIT,
    F_TAKE_HIT,
    F_TERMINATED,
    F_TRADE,
    F_TRUNCATED,
    O_EQUITY_ABS,
    O_FEE_ABS,
    O_POSITION,
    O_PRICE,
    O_REWARD,
    O_SLIPPAGE_ABS,
    OUT_FIELDS,
)
from tradecore.env.market import MarketData
from tradecore.env.trading import observation_space
from tradecore.errors import TradecoreError

_UNSET: Any = object()


class BatchedTradingEnv(VectorEnv):
    """A batch of trading envs over one split."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(
        self,
        market: MarketData,
        config: EnvConfig,
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
        self.window = config.window
        self.random_start = config.random_start if random_start is None else bool(random_start)
        self.episode_steps = config.episode_steps if episode_steps is _UNSET else episode_steps
        self.engine = Engine(
            market, config, self.split, terms, num_envs, episode_steps=self.episode_steps, split_name=split_name
        )
        self.num_envs = n = self.engine.num_envs
        self.layout = self.engine.layout
        self.single_action_space = self.layout.action_space()
        self.action_space = batch_space(self.single_action_space, n)
        self.single_observation_space = observation_space(config.observation, self.window, market.features.shape[1])
        self.observation_space = batch_space(self.single_observation_space, n)
        self._rngs = [seeding.np_random(None if seed is None else seed + i)[0] for i in range(n)]
        self._all = np.ones(n, dtype=bool)
        self._indices = np.arange(n)
        self._flat = self.engine.flat
        self._term_rows = tuple((name, OUT_FIELDS + k) for k, name in enumerate(self.engine.terms.names))
        self._continuous = self.layout.continuous
        self._heads = self.layout.heads
        self._actions = np.zeros((len(self._heads), n), dtype=np.int64)  # the engine's (heads, envs) layout
        self._action_rows = tuple(zip(self._actions, self._heads))
        self.engine.start(self._all, self.engine.bounds.first_start)

    # -- resets -----------------------------------------------------------------------------------
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
        bars = engine.current_bars()
        return self._observation(row), {
            "equity": np.full(self.num_envs, engine.initial_equity),
            "price": engine.prices[bars, 3],
            "bar": self.split.start + bars,
        }

    def _restart(self, rows: np.ndarray) -> None:
        """New episodes for the sub-envs where ``rows`` is True, each start from that sub-env's generator."""
        bounds = self.engine.bounds
        if self.random_start:
            starts = [bounds.draw(self._rngs[i]) for i in np.flatnonzero(rows).tolist()]
        else:
            starts = bounds.first_start
        self.engine.start(rows, starts)

    # -- stepping ---------------------------------------------------------------------------------
    def _encode(self, actions) -> np.ndarray:
        """The engine's ``(heads, num_envs)`` layout: the Dict's arrays copied into one buffer the kernel reads at
        once, or a transposed view of a ``(num_envs, heads)`` array."""
        if self._continuous:
            return np.asarray(actions, dtype=np.float64).reshape(self.num_envs, -1).T
        if isinstance(actions, dict):
            try:
                for row, head in self._action_rows:  # ``row[...] =`` copies without making a view of the row
                    row[...] = actions[head]
            except ValueError:  # not one value per env (a column per head, say): numpy's reshape decides
                values = np.array([actions[head] for head in self._heads], dtype=np.int64)
                return values.reshape(len(self._heads), self.num_envs)
            return self._actions
        return np.asarray(actions, dtype=np.int64).reshape(self.num_envs, len(self._heads)).T

    def step(self, actions):
        # the results are a row of the engine's blocks, never written again (so nothing returned is overwritten
        # later); each info array is a row of it, taken by one integer index (cheaper than iterating or a tuple)
        engine = self.engine
        row, ended = engine.step(self._encode(actions))
        out, flags = engine.out[row], engine.flags[row]
        infos: dict[str, Any] = {
            "equity": out[O_EQUITY_ABS],
            "position": out[O_POSITION],
            "price": out[O_PRICE],
            "fee": out[O_FEE_ABS],
            "slippage": out[O_SLIPPAGE_ABS],
            "trade": flags[F_TRADE],
            "opened": flags[F_OPENED],
            "closed": flags[F_CLOSED],
            "stop_hit": flags[F_STOP_HIT],
            "take_hit": flags[F_TAKE_HIT],
            "reward_terms": {name: out[k] for name, k in self._term_rows},
            "bar": engine.bars[row],
        }
        if ended:
            self._autoreset(row, infos)
        market = engine.market[row]
        obs = market if self._flat else {"market": market, "account": engine.account[row]}
        return obs, out[O_REWARD], flags[F_TERMINATED], flags[F_TRUNCATED], infos

    def _autoreset(self, row: int, infos: dict[str, Any]) -> None:
        """The ended sub-envs' observations into ``infos["final_obs"]``, then their next episodes' first ones."""
        engine = self.engine
        done = engine.flags[row, F_DONE]
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
        """Row ``row`` of the engine's observation blocks as this env's observation: flat, or the Dict's dict."""
        if self._flat:
            return self.engine.market[row]
        return {"market": self.engine.market[row], "account": self.engine.account[row]}

    def action_masks(self) -> np.ndarray:
        """Per sub-env concatenated head masks, shape ``(num_envs, sum(nvec))`` (MaskablePPO format)."""
        return head_masks(self.layout, self.engine.state)
