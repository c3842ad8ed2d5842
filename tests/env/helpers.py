"""Small hand-made markets for env tests."""

from __future__ import annotations

import numpy as np

from tradecore.config.env import EnvConfig, SplitConfig
from tradecore.env import rewards
from tradecore.env.experiment import experiment_from_arrays
from tradecore.interfaces import Candles

ALL_TERMS = [
    ("pnl", 1.0, rewards.PnL),
    ("fee_cost", 1.0, rewards.FeeCost),
    ("drawdown", 0.5, rewards.DrawdownPenalty),
    ("turnover", 0.1, rewards.TurnoverPenalty),
]


def candles_from(ohlc: list[tuple[float, float, float, float]], timeframe: str = "1h") -> Candles:
    arr = np.array(ohlc, dtype=np.float64)
    n = len(arr)
    return Candles(
        time=np.arange(n, dtype=np.int64) * 3_600_000,
        open=arr[:, 0].copy(),
        high=arr[:, 1].copy(),
        low=arr[:, 2].copy(),
        close=arr[:, 3].copy(),
        volume=np.ones(n),
        timeframe=timeframe,
    )


def hand_experiment(ohlc, *, terms=None, features=None, **env):
    """One split spanning every bar; features default to the bar index (so windows are easy to check)."""
    c = candles_from(ohlc)
    feats = features if features is not None else np.arange(len(c), dtype=np.float32)[:, None]
    settings = dict(
        window=1, fee_bps=10.0, slippage_bps=10.0, episode_steps=None, random_start=False, initial_equity=1000.0
    )
    settings.update(env)
    cfg = EnvConfig(**settings)
    names = [f"f{k}" for k in range(feats.shape[1])]
    return experiment_from_arrays(
        c,
        feats,
        names,
        cfg,
        SplitConfig(train=1.0, validation=0.0, test=0.0),
        terms if terms is not None else [("pnl", 1.0, rewards.PnL)],
    )


def synthetic_experiment(bars=3000, *, terms=None, seed=1, **env):
    from tradecore.data.synthetic import SyntheticParams, generate_candles

    c = Candles.from_frame(generate_candles(SyntheticParams(bars=bars, timeframe="1h", seed=seed)), "1h")
    feats = np.stack(
        [
            np.r_[0.0, np.diff(np.log(c.close))],
            (c.high - c.low) / c.close,
            np.log(c.volume),
            np.sin(np.arange(bars) / 24.0),
        ],
        axis=1,
    )
    settings = dict(
        window=8,
        episode_steps=40,
        max_drawdown=0.5,
        actions={
            "direction": True,
            "size_buckets": [0.5, 1.0],
            "stop_loss_pct": [0.005, 0.02],
            "take_profit_pct": [0.005, 0.03],
        },
    )
    settings.update(env)
    return experiment_from_arrays(
        c,
        feats,
        ["ret", "range", "logvol", "season"],
        EnvConfig(**settings),
        SplitConfig(),
        terms if terms is not None else ALL_TERMS,
    )
