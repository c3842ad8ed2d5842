"""Baseline policies an agent is judged against: flat, buy-and-hold, random (several seeds), MA crossover.

They act through the same env as the agent (same bars, fees, slippage, leverage), in the env's action
layout. Buy-and-hold and the crossover go long with the size closest to 1x equity.

When the manifest's action set forces stop-loss/take-profit heads (every action carries a stop), a
"buy-and-hold" inside it would be stopped out and re-enter again and again -- 18 trades instead of one.
The holding baselines (``HOLDING``) therefore run on a copy of the experiment with the stop/take heads
switched off and everything else (bars, fees, slippage, sizes, leverage) unchanged: the classic
benchmark, and the note in ``metrics.json`` (``baseline_notes``) and the report says so. Flat and
random act in the agent's own action set.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

RANDOM_SEEDS = (0, 1, 2, 3, 4)
MA_FAST, MA_SLOW = 20, 50
#: baselines defined as holding a position until their own signal says otherwise (no stops)
HOLDING = ("buy_and_hold", "ma_crossover")
NO_STOPS_NOTE = (
    "runs without the stop-loss/take-profit the agent's action set forces (same bars, fees, slippage and size)"
)
FORCED_STOPS_NOTE = (
    "uses the widest stop-loss/take-profit the action set forces, so it re-enters after each stop "
    "(more trades than a plain hold)"
)


class LayoutPolicy:
    """Builds action rows for a target of flat (0) or long (1) in the env's layout."""

    wants_masks = False

    def __init__(self, layout: Any) -> None:
        self.layout = layout
        self.n = 1
        size_idx = int(np.argmin([abs(s - 1.0) for s in layout.size]))
        if layout.continuous:
            lev = layout.leverage
            long = min(1.0, 1.0 / lev) if layout.allow_short else 2.0 * min(1.0, 1.0 / lev) - 1.0
            flat = 0.0 if layout.allow_short else -1.0
            extra = [1.0] * len(layout.continuous_dims)  # widest stop and take
            self.rows = {0: np.array([flat, *extra], np.float32), 1: np.array([long, *extra], np.float32)}
        else:
            index = {
                "size": size_idx,
                "stop_loss": int(np.argmax(layout.stop_loss)) if layout.stop_loss else 0,
                "take_profit": int(np.argmax(layout.take_profit)) if layout.take_profit else 0,
            }
            self.rows = {}
            for target, direction in ((0, 0), (1, 1)):
                self.rows[target] = np.array(
                    [direction if h == "direction" else index[h] for h in layout.heads], np.int64
                )
        self.can_be_flat = layout.continuous or "direction" in layout.heads

    def reset(self, num_envs: int) -> None:
        self.n = num_envs

    def targets(self, bars: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def act(self, obs: Any, *, masks: np.ndarray | None = None, bars: np.ndarray | None = None) -> np.ndarray:
        targets = self.targets(bars)
        return np.stack([self.rows[int(t)] for t in targets])


class Flat(LayoutPolicy):
    def targets(self, bars: np.ndarray) -> np.ndarray:
        return np.zeros(len(bars), dtype=np.int64)


class BuyAndHold(LayoutPolicy):
    def targets(self, bars: np.ndarray) -> np.ndarray:
        return np.ones(len(bars), dtype=np.int64)


class MACrossover(LayoutPolicy):
    """Long while SMA(fast) of closes is above SMA(slow), else flat; bar t uses closes <= t only."""

    def __init__(self, layout: Any, close: np.ndarray, fast: int = MA_FAST, slow: int = MA_SLOW) -> None:
        super().__init__(layout)
        csum = np.concatenate(([0.0], np.cumsum(np.asarray(close, dtype=np.float64))))
        n = len(close)
        idx = np.arange(n)
        sma_fast = np.where(idx >= fast - 1, (csum[idx + 1] - csum[np.maximum(idx + 1 - fast, 0)]) / fast, np.nan)
        sma_slow = np.where(idx >= slow - 1, (csum[idx + 1] - csum[np.maximum(idx + 1 - slow, 0)]) / slow, np.nan)
        self.signal = (sma_fast > sma_slow).astype(np.int64)  # NaN compares False: flat during warm-up

    def targets(self, bars: np.ndarray) -> np.ndarray:
        return self.signal[bars]


class RandomPolicy:
    """Uniform random actions from a seeded generator (masks respected when the env has them)."""

    wants_masks = False

    def __init__(self, layout: Any, seed: int) -> None:
        self.layout = layout
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def reset(self, num_envs: int) -> None:
        self.rng = np.random.default_rng(self.seed)

    def act(self, obs: Any, *, masks: np.ndarray | None = None, bars: np.ndarray | None = None) -> np.ndarray:
        n = len(bars)
        if self.layout.continuous:
            dims = 1 + len(self.layout.continuous_dims)
            return self.rng.uniform(-1.0, 1.0, size=(n, dims)).astype(np.float32)
        nvec = np.array(self.layout.nvec())
        return (self.rng.random((n, len(nvec))) * nvec).astype(np.int64)


def baseline_policies(experiment: Any, layout: Any) -> dict[str, Any]:
    """Name -> policy, in report order. ``flat`` is omitted when the env cannot be flat (no direction head)."""
    close = experiment.market.close
    out: dict[str, Any] = {}
    flat = Flat(layout)
    if flat.can_be_flat:
        out["flat"] = flat
        out["ma_crossover"] = MACrossover(layout, close)
    out["buy_and_hold"] = BuyAndHold(layout)
    for seed in RANDOM_SEEDS:
        out[f"random_{seed}"] = RandomPolicy(layout, seed)
    return out


def forced_stops(experiment: Any) -> bool:
    """Whether every action in the experiment's env carries a stop-loss or take-profit."""
    actions = experiment.config.actions
    return bool(actions.stop_loss_pct or actions.take_profit_pct)


def without_stops(experiment: Any, split: str) -> tuple[Any, Any] | None:
    """(experiment, env layout) with the stop/take heads off and all else equal; None when not possible."""
    if not forced_stops(experiment) or not dataclasses.is_dataclass(experiment):
        return None
    actions = experiment.config.actions.model_copy(update={"stop_loss_pct": [], "take_profit_pct": []})
    plain = dataclasses.replace(experiment, config=experiment.config.model_copy(update={"actions": actions}))
    try:
        layout = plain.make_env(split, random_start=False, episode_steps=None).layout
    except Exception:  # noqa: BLE001 - e.g. no action head left at all: keep the forced stops (and say so)
        return None
    return plain, layout
