"""What an evaluation rollout records, per bar: one policy's equity, exposure, costs and reward over a split."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Rollout:
    """Per-bar record of one policy over a split (``equity`` and ``price``/``time`` have one extra entry: the start)."""

    equity: np.ndarray
    exposure: np.ndarray
    costs: np.ndarray
    price: np.ndarray
    time: np.ndarray
    reward: np.ndarray
    reward_terms: dict[str, np.ndarray] = field(default_factory=dict)
    #: open, high and low of the bars ``price`` closes (recorded with the reward terms): the report's candles
    candles: dict[str, np.ndarray] = field(default_factory=dict)
    segments: int = 1
    #: how this policy's run differs from the agent's (e.g. a baseline held without forced stops)
    note: str = ""
    #: portfolio runs: the assets' names and per-step, per-asset arrays (``weights``, ``asset_pnl``,
    #: ``asset_costs``, ``traded``; steps x assets), see :mod:`tradecore.runs.portfolio_eval`
    symbols: tuple[str, ...] = ()
    assets: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def total_return(self) -> float:
        return float(self.equity[-1] / self.equity[0] - 1.0)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {
            "equity": self.equity,
            "exposure": self.exposure,
            "costs": self.costs,
            "price": self.price,
            "time": self.time,
            "reward": self.reward,
        }
        out.update({f"reward_{k}": v for k, v in self.reward_terms.items()})
        out.update(self.assets)
        out.update(self.candles)
        return out
