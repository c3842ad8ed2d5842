"""Wrappers: the MultiDiscrete flattening of the Dict action heads (for SB3 and MaskablePPO)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from tradecore.errors import TradecoreError


class FlattenActions(gym.ActionWrapper):
    """Dict of Discrete heads -> ``MultiDiscrete`` in head order (direction, size, stop_loss, take_profit,
    enabled ones only). ``action_masks()`` returns the concatenated per-head masks MaskablePPO expects."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        base = env.unwrapped
        if getattr(base, "layout", None) is None or base.layout.continuous:
            raise TradecoreError("FlattenActions needs a TradingEnv in discrete action mode")
        self.heads = base.layout.heads
        self.action_space = spaces.MultiDiscrete(base.layout.nvec())
        self._fast = env is base  # no wrapper in between: skip building the Dict

    def step(self, action):
        if self._fast:
            return self.env.step_indices(np.asarray(action).tolist())
        return self.env.step(self.action(action))

    def action(self, action) -> dict[str, int]:
        return {head: int(a) for head, a in zip(self.heads, np.asarray(action).tolist())}

    def action_masks(self) -> np.ndarray:
        return self.env.unwrapped.action_masks()
