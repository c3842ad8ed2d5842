"""Candles for the feature tests: synthetic (seeded) and, when ../shared is present, real Kraken bars."""

from __future__ import annotations

import numpy as np
import pytest

from tradecore.interfaces import Candles


def make_candles(n: int = 3000, seed: int = 7, price: float = 30_000.0, timeframe: str = "1m") -> Candles:
    """A seeded geometric random walk with a consistent high/low envelope (like the peer benchmark's)."""
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0.0, 6e-4, n)))
    open_ = np.empty(n)
    open_[0] = price
    open_[1:] = close[:-1]
    high = np.maximum(open_, close) * (1.0 + np.abs(rng.normal(0.0, 3e-4, n)))
    low = np.minimum(open_, close) * (1.0 - np.abs(rng.normal(0.0, 3e-4, n)))
    volume = rng.lognormal(1.0, 1.0, n)
    time = 1_704_067_200_000 + np.arange(n, dtype=np.int64) * 60_000  # 2024-01-01T00:00Z
    return Candles(time, open_, high, low, close, volume, timeframe)


@pytest.fixture(scope="session")
def candles() -> Candles:
    return make_candles()


@pytest.fixture(scope="session")
def synthetic_source_candles() -> Candles:
    from tradecore.data.synthetic import SyntheticParams, generate_candles

    return Candles.from_frame(generate_candles(SyntheticParams(bars=4000, timeframe="1h", seed=3)), "1h")
