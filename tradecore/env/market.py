"""The market an env trades: aligned prices and float32 features as contiguous arrays, validated once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradecore.errors import TradecoreError
from tradecore.interfaces import Candles


@dataclass(frozen=True)
class MarketData:
    """Row ``i`` of ``features`` was computed from candles ``<= i`` and belongs to candle row ``i``."""

    time: np.ndarray  # int64 epoch ms
    prices: np.ndarray  # float64 (n, 4), C-contiguous: open, high, low, close (one row per bar: what a step reads)
    features: np.ndarray  # float32 (n, k), C-contiguous
    feature_names: tuple[str, ...]
    timeframe: str = "1m"

    def __len__(self) -> int:
        return len(self.prices)

    @property
    def open(self) -> np.ndarray:
        return self.prices[:, 0]

    @property
    def high(self) -> np.ndarray:
        return self.prices[:, 1]

    @property
    def low(self) -> np.ndarray:
        return self.prices[:, 2]

    @property
    def close(self) -> np.ndarray:
        return self.prices[:, 3]

    @classmethod
    def from_arrays(
        cls,
        candles: Candles,
        features: np.ndarray,
        feature_names: list[str] | tuple[str, ...],
        *,
        first: int = 0,
        field: str = "indicators",
    ) -> MarketData:
        """Check and pack ``candles`` and ``features``, whose row ``i`` belongs to candle ``first + i``; errors
        name ``field``. The market keeps candle coordinates: the ``first`` warm-up rows get zero features and
        are not checked (no split ever reaches them)."""
        feats = np.ascontiguousarray(features, dtype=np.float32)
        rows = len(candles) - first
        if feats.ndim != 2 or feats.shape[0] != rows:
            raise TradecoreError(f"{field}: feature matrix has shape {feats.shape}, expected ({rows}, k)")
        if feats.shape[1] == 0:
            raise TradecoreError(f"{field}: no feature columns; add an indicator")
        if len(feature_names) != feats.shape[1]:
            raise TradecoreError(f"{field}: {len(feature_names)} names for {feats.shape[1]} feature columns")
        bad = ~np.isfinite(feats)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise TradecoreError(
                f"{field}: feature {feature_names[col]!r} is NaN or infinite at row {row} "
                f"({int(bad.sum())} bad values); drop warm-up rows or fix the indicator's params"
            )
        prices = ohlc_matrix(candles)
        _check_prices(prices[first:])
        full = np.zeros((len(candles), feats.shape[1]), dtype=np.float32)
        full[first:] = feats
        return cls(
            time=np.ascontiguousarray(candles.time, dtype=np.int64),
            prices=prices,
            features=full,
            feature_names=tuple(feature_names),
            timeframe=candles.timeframe,
        )


def _check_prices(prices: np.ndarray) -> None:
    for k, name in enumerate(("open", "high", "low", "close")):
        if not np.isfinite(prices[:, k]).all() or (prices[:, k] <= 0).any():
            raise TradecoreError(f"source: {name} prices must be finite and positive")
    o, h, low, c = prices.T
    if (h < np.maximum(o, c)).any() or (low > np.minimum(o, c)).any():
        raise TradecoreError("source: inconsistent candles (high below open/close or low above them)")


def ohlc_matrix(candles: Candles) -> np.ndarray:
    """The candles' open, high, low and close as one float64 ``(n, 4)`` matrix."""
    prices = np.empty((len(candles), 4))
    for k, name in enumerate(("open", "high", "low", "close")):
        prices[:, k] = getattr(candles, name)
    return prices
