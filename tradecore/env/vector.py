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
from tradecore.env import kernels as K
from tradecore.env.engine import Engine, TermFactory
from tradecore.env.execution import QTY, STOP_INDEX, TAKE_INDEX
from tradecore.env.market import MarketData
from tradecore.env.trading import observation_space
from tradecore.errors import TradecoreError

_UNSET: Any = object()
_INFO_FLOATS = (
    ("equity", K.O_EQUITY_ABS),
    ("position", K.O_POSITION),
    ("price", K.O_PRICE),
    ("fee", K.O_FEE_ABS),
    ("slippage", K.O_SLIPPAGE_ABS),
)
_INFO_FLAGS = (
    ("trade", K.F_TRADE),
    ("opened", K.F_OPENED),
    ("closed", K.F_CLOSED),
    ("stop_hit", K.F_STOP_HIT),
    ("take_hit", K.F_TAKE_HIT),
)


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
        self._flat = config.observation == "flat"
        self._wf = self.window * self.engine.features.shape[1]
        self._market_shape = (n, self.window, self.engine.features.shape[1])
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
        bars = self.engine.bars()
        obs = self.engine.observe(self._indices)
        return self._observations(obs), {
            "equity": np.full(self.num_envs, self.engine.initial_equity),
            "price": self.engine.prices[bars, 3],
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
        """The engine's ``(heads, num_envs)`` layout (a transposed view for ``(num_envs, heads)`` arrays)."""
        n, lay = self.num_envs, self.layout
        if lay.continuous:
            return np.asarray(actions, dtype=np.float64).reshape(n, -1).T
        if isinstance(actions, dict):
            return np.array([actions[head] for head in lay.heads], dtype=np.int64).reshape(len(lay.heads), n)
        return np.asarray(actions, dtype=np.int64).reshape(n, len(lay.heads)).T

    def step(self, actions):
        obs, ended = self.engine.step(self._encode(actions))
        # one copy of each result matrix per step; the info arrays are rows of those copies
        out, flags = self.engine.out.copy(), self.engine.flags.copy()
        infos: dict[str, Any] = {name: out[row] for name, row in _INFO_FLOATS}
        infos.update({name: flags[row] for name, row in _INFO_FLAGS})
        infos["reward_terms"] = dict(zip(self.engine.terms.names, out[K.OUT_FIELDS :]))
        infos["bar"] = out[K.O_BAR].astype(np.int64)
        if ended:
            done = flags[K.F_DONE]
            rows = np.flatnonzero(done)
            final = self._observations(obs[rows])
            final_obs = np.full(self.num_envs, None, dtype=object)
            for j, i in enumerate(rows.tolist()):
                final_obs[i] = {k: v[j] for k, v in final.items()} if isinstance(final, dict) else final[j]
            infos["final_obs"] = final_obs
            infos["_final_obs"] = done
            self._restart(done)
            obs[rows] = self.engine.observe(rows)
        return self._observations(obs), out[K.O_REWARD], flags[K.F_TERMINATED], flags[K.F_TRUNCATED], infos

    def _observations(self, rows: np.ndarray):
        """The engine's flat observation rows as this env's observations (flat, or the market/account dict)."""
        if self._flat:
            return rows
        return {
            "market": rows[:, : self._wf].reshape(len(rows), *self._market_shape[1:]),
            "account": rows[:, self._wf :],
        }

    def action_masks(self) -> np.ndarray:
        """Per sub-env concatenated head masks, shape ``(num_envs, sum(nvec))`` (MaskablePPO format)."""
        lay, n, state = self.layout, self.num_envs, self.engine.state
        held = state[:, QTY] != 0.0
        blocks = []
        for head in lay.heads:
            size = len(lay.table(head))
            mask = np.ones((n, size), dtype=bool)
            if head in ("stop_loss", "take_profit"):
                idx = state[:, STOP_INDEX if head == "stop_loss" else TAKE_INDEX].astype(np.int64)
                locked = np.zeros((n, size), dtype=bool)
                locked[np.arange(n), idx] = True
                mask = np.where(held[:, None], locked, mask)
            blocks.append(mask)
        return np.concatenate(blocks, axis=1)
