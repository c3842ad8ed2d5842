"""Action heads: which are enabled, their spaces, value tables and masks.

Discrete mode: a ``Dict`` of ``Discrete`` heads, only those with more than one choice:

- ``direction``: 0 = flat, 1 = long, 2 = short (2 only with ``allow_short``). Off = always long.
- ``size``: index into ``actions.size_buckets``; exposure = size x ``env.leverage`` (fraction of equity).
- ``stop_loss`` / ``take_profit``: index into ``actions.stop_loss_pct`` / ``take_profit_pct``.

Continuous mode: ``Box(-1, 1, (k,))``, decoded by :mod:`tradecore.env.kernels`. Dimension 0 is the target
position: x ``leverage`` with shorting, otherwise mapped from [-1, 1] to [0, 1] x ``leverage``. When the
stop or take list has two or more values, one more dimension each maps [-1, 1] linearly onto [min, max]
of that list.

Stop and take distances are chosen when a position opens from flat and stay locked while it is open
(a resize or flip re-anchors the levels at the new fill with the same distances). The masks say so:
while a position is open only the bucket in force is valid in the stop and take heads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradecore.config.env import EnvConfig
from tradecore.errors import TradecoreError

HEAD_ORDER = ("direction", "size", "stop_loss", "take_profit")


@dataclass(frozen=True)
class ActionLayout:
    """Value tables per head and which heads the agent controls."""

    continuous: bool
    direction: tuple[float, ...]  # index -> sign
    size: tuple[float, ...]  # index -> exposure as a multiple of equity (already x leverage)
    stop_loss: tuple[float, ...]  # index -> distance (fraction), () = no stop
    take_profit: tuple[float, ...]
    heads: tuple[str, ...]  # enabled discrete heads, in HEAD_ORDER (also the Dict's sorted key order)
    allow_short: bool
    leverage: float

    @classmethod
    def from_config(cls, config: EnvConfig) -> ActionLayout:
        acts = config.actions
        direction = (0.0, 1.0, -1.0) if config.allow_short else (0.0, 1.0)
        if not acts.direction:
            direction = (1.0,)
        size = tuple(float(s) * config.leverage for s in acts.size_buckets)
        stop = tuple(float(v) for v in acts.stop_loss_pct)
        take = tuple(float(v) for v in acts.take_profit_pct)
        tables = {"direction": direction, "size": size, "stop_loss": stop, "take_profit": take}
        heads = tuple(h for h in HEAD_ORDER if len(tables[h]) > 1)
        continuous = config.action_mode == "continuous"
        if not continuous and not heads:
            raise TradecoreError(
                "env.actions: the agent has no choice to make; set actions.direction to true or give "
                "two or more size_buckets"
            )
        return cls(
            continuous=continuous,
            direction=direction,
            size=size,
            stop_loss=stop,
            take_profit=take,
            heads=heads,
            allow_short=config.allow_short,
            leverage=float(config.leverage),
        )

    def table(self, head: str) -> tuple[float, ...]:
        return getattr(self, head)

    @property
    def continuous_dims(self) -> tuple[str, ...]:
        """Continuous mode: the Box dimensions after the target position."""
        return tuple(h for h in ("stop_loss", "take_profit") if len(self.table(h)) > 1)

    def action_space(self):
        from gymnasium import spaces

        if self.continuous:
            k = 1 + len(self.continuous_dims)
            return spaces.Box(-1.0, 1.0, (k,), np.float32)
        return spaces.Dict({h: spaces.Discrete(len(self.table(h))) for h in self.heads})

    def nvec(self) -> list[int]:
        """Sizes of the enabled discrete heads, in order (the MultiDiscrete flattening)."""
        return [len(self.table(h)) for h in self.heads]


def head_masks(layout: ActionLayout, state: np.ndarray) -> np.ndarray:
    """Per account row of ``state`` (execution slots first) the enabled heads' masks concatenated, shape
    ``(rows, sum(nvec))`` (MaskablePPO's format): stop and take heads are locked while a position is open."""
    from tradecore.env.execution import QTY, STOP_INDEX, TAKE_INDEX

    n = state.shape[0]
    held = state[:, QTY] != 0.0
    blocks = []
    for head in layout.heads:
        size = len(layout.table(head))
        mask = np.ones((n, size), dtype=bool)
        if head in ("stop_loss", "take_profit"):
            idx = state[:, STOP_INDEX if head == "stop_loss" else TAKE_INDEX].astype(np.int64)
            locked = np.zeros((n, size), dtype=bool)
            locked[np.arange(n), idx] = True
            mask = np.where(held[:, None], locked, mask)
        blocks.append(mask)
    return np.concatenate(blocks, axis=1)
