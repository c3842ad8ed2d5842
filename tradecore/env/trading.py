"""TradingEnv: one instrument, bar by bar, with next-open fills, fees, slippage, stops and reward terms.

The env is the one-env case of :class:`tradecore.env.engine.Engine`; the execution model (fills, costs,
stops and take-profits, marking) is documented and implemented in :mod:`tradecore.env.execution`.
Per step, with bars ``i`` (open ``O``, high ``H``, low ``L``, close ``C``):

1. The observation at step ``t`` uses bars ``<= t`` only: the feature rows ``t-window+1 .. t`` and the
   account state marked at ``C[t]``.
2. The action chosen at ``t`` sets a target exposure; its order fills at ``O[t+1]``, and stops and
   take-profits are checked against ``H[t+1]`` and ``L[t+1]`` (when a bar touches both, the stop is
   assumed to have hit first).
3. Equity is marked at ``C[t+1]``; the step's reward is the weighted sum of the reward terms over the
   step outcome (:class:`tradecore.interfaces.StepOutcome`), so fees and slippage are inside the reward.
4. ``terminated`` only on ruin (equity <= 0) or when drawdown reaches ``max_drawdown``; ``truncated``
   at ``episode_steps`` or when no next bar is left in the split.

Episodes start at the first bar with a full window, or (``random_start``) at a bar drawn from
``self.np_random`` so that a whole episode fits (:class:`tradecore.env.episodes.EpisodeBounds`);
``reset(seed=...)`` fully determines the episode and ``reset(options={"start": i})`` forces the first
observation bar (split-relative). Step and reset are O(1) in the data length.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from tradecore.config.env import EnvConfig
from tradecore.env import kernels as K
from tradecore.env.engine import Engine, TermFactory
from tradecore.env.execution import ACCOUNT_FEATURES, QTY, STOP_INDEX, TAKE_INDEX
from tradecore.env.market import MarketData
from tradecore.errors import TradecoreError

#: the account part of the observation, in order (kept under its historical name)
ACCOUNT_FIELDS = ACCOUNT_FEATURES
_UNSET: Any = object()
_RECORD_FLOATS = ("equity", "position", "price", "fee", "slippage", "reward")
_RECORD_FLAGS = ("opened", "closed", "stop_hit", "take_hit")


class TradingEnv(gym.Env):
    """The single trading env. Build it through :meth:`tradecore.env.experiment.Experiment.make_env`."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(
        self,
        market: MarketData,
        config: EnvConfig,
        terms: Sequence[tuple[str, float, TermFactory]],
        *,
        split: range | None = None,
        split_name: str = "data",
        random_start: bool | None = None,
        episode_steps: int | None = _UNSET,
        record: bool = False,
        render_mode: str | None = None,
    ) -> None:
        super().__init__()
        self.split = split if split is not None else range(len(market))
        self.split_name = split_name
        self.config = config
        self.market = market
        self.window = config.window
        self.random_start = config.random_start if random_start is None else bool(random_start)
        self.episode_steps = config.episode_steps if episode_steps is _UNSET else episode_steps
        self.engine = Engine(
            market, config, self.split, terms, 1, episode_steps=self.episode_steps, split_name=split_name
        )
        self.layout = self.engine.layout
        self._terms = list(terms)
        self.action_space = self.layout.action_space()
        self.observation_space = observation_space(config.observation, self.window, market.features.shape[1])
        self._set_up_stepping()
        self._set_up_rendering(render_mode, record)
        self.engine.start(self._all, self.engine.bounds.first_start)
        self._t = self._start = self.engine.bounds.first_start

    def _set_up_stepping(self) -> None:
        """What every step reuses: the action buffer, the names and places of its results."""
        lay = self.layout
        self._all = np.ones(1, dtype=bool)
        self._first_env = np.zeros(1, dtype=np.int64)
        # the engine's (heads, envs) or (dims, envs) layout; for Dict actions, a 0-d view of each head's cell
        if lay.continuous:
            self._action = np.zeros((self.action_space.shape[0], 1), dtype=np.float64)
            self._action_cells: tuple[tuple[np.ndarray, str], ...] = ()
        else:
            self._action = np.zeros((len(lay.heads), 1), dtype=np.int64)
            self._action_cells = tuple((self._action[j].reshape(()), head) for j, head in enumerate(lay.heads))
        self._names = self.engine.terms.names
        self._flat = self.engine.flat
        self._first_bar = self.split.start

    def _set_up_rendering(self, render_mode: str | None, record: bool) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise TradecoreError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.render_mode = render_mode
        self.record = bool(record or render_mode is not None)
        if self.record:
            size = self.engine.bounds.longest + 1
            self._rec = {k: np.zeros(size) for k in _RECORD_FLOATS}
            self._rec.update({k: np.zeros(size, dtype=np.int64) for k in ("bar", "time")})
            self._rec.update({k: np.zeros(size, dtype=bool) for k in _RECORD_FLAGS})

    # -- reset and step ---------------------------------------------------------------------------
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
        c = float(self.engine.prices[start, 3])
        e0 = self.engine.initial_equity
        if self.record:
            self._record(0, (e0, 0.0, c, 0.0, 0.0, 0.0), (False, False, False, False))
        row = self.engine.take_row()
        self.engine.observe(self._first_env, row)
        obs = self._observation(row)
        bar = self.split.start + start
        return obs, {"equity": e0, "price": c, "bar": bar, "time": int(self.market.time[bar])}

    def step(self, action):
        if isinstance(action, dict) and self._action_cells:  # the Dict action space: one index per enabled head
            for cell, head in self._action_cells:  # ``cell[...] =`` writes without making a view of the cell
                cell[...] = action[head]
        else:  # a Box action, or the heads' indices in head order
            self._action[:, 0] = action
        return self._advance()

    def step_indices(self, indices: Sequence[int]):
        """Step with the enabled heads' indices in head order (the MultiDiscrete fast path)."""
        self._action[:, 0] = indices
        return self._advance()

    def _advance(self):
        engine = self.engine
        row, _ = engine.step(self._action)
        self._t += 1
        values = engine.out[row, :, 0].tolist()
        reward, equity, position, price, fee, slippage = values[K.O_REWARD : K.OUT_FIELDS]
        _, terminated, truncated, trade, opened, closed, stop_hit, take_hit = flags = engine.flags[row, :, 0].tolist()
        info = {
            "equity": equity,
            "position": position,
            "price": price,
            "fee": fee,
            "slippage": slippage,
            "trade": trade,
            "opened": opened,
            "closed": closed,
            "stop_hit": stop_hit,
            "take_hit": take_hit,
            "reward_terms": dict(zip(self._names, values[K.OUT_FIELDS :])),
            "bar": self._first_bar + self._t,
        }
        if self.record:
            self._record(self._t - self._start, (equity, position, price, fee, slippage, reward), flags[4:])
        market = engine.market[row, 0]
        obs = market if self._flat else {"market": market, "account": engine.account[row, 0]}
        return obs, reward, terminated, truncated, info

    def _observation(self, row: int):
        """Env 0's observation in row ``row`` of the engine's blocks: the flat vector or the market/account dict."""
        if self._flat:
            return self.engine.market[row, 0]
        return {"market": self.engine.market[row, 0], "account": self.engine.account[row, 0]}

    # -- masks, records, rendering ----------------------------------------------------------------
    def action_mask_heads(self) -> list[np.ndarray]:
        """One boolean mask per enabled head: stop/take heads are locked while a position is open."""
        account = self.engine.state[0]
        held = account[QTY] != 0.0
        masks = []
        for head in self.layout.heads:
            mask = np.ones(len(self.layout.table(head)), dtype=bool)
            if held and head in ("stop_loss", "take_profit"):
                mask[:] = False
                mask[int(account[STOP_INDEX if head == "stop_loss" else TAKE_INDEX])] = True
            masks.append(mask)
        return masks

    def action_masks(self) -> np.ndarray:
        """The enabled heads' masks concatenated (MaskablePPO's MultiDiscrete format)."""
        return np.concatenate(self.action_mask_heads())

    def _record(self, k: int, values: tuple[float, ...], marks: Sequence[bool]) -> None:
        """Row ``k`` of the episode record: ``values`` in ``_RECORD_FLOATS`` order, ``marks`` in ``_RECORD_FLAGS``."""
        rec = self._rec
        bar = self.split.start + self._t
        rec["bar"][k] = bar
        rec["time"][k] = self.market.time[bar]
        for name, value in zip(_RECORD_FLOATS, values):
            rec[name][k] = value
        for name, value in zip(_RECORD_FLAGS, marks):
            rec[name][k] = value

    def episode_record(self) -> dict[str, np.ndarray]:
        """Copies of the recorded arrays for the episode so far (row 0 = the reset); needs ``record=True``."""
        if not self.record:
            raise TradecoreError("episode_record() needs the env built with record=True")
        return {k: v[: self._t - self._start + 1].copy() for k, v in self._rec.items()}

    def render(self):
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; build the env with render_mode='rgb_array'")
            return None
        from tradecore.env.render import episode_figure_rgb

        return episode_figure_rgb(self.episode_record(), title=f"{self.split_name} episode")


def observation_space(kind: str, window: int, n_features: int) -> spaces.Space:
    """One env's observation space: ``flat`` (one float32 vector) or ``dict`` (``market`` and ``account``)."""
    accounts = len(ACCOUNT_FEATURES)
    if kind == "flat":
        return spaces.Box(-np.inf, np.inf, (window * n_features + accounts,), np.float32)
    return spaces.Dict(
        {
            "market": spaces.Box(-np.inf, np.inf, (window, n_features), np.float32),
            "account": spaces.Box(-np.inf, np.inf, (accounts,), np.float32),
        }
    )
