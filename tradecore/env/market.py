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
    open: np.ndarray  # float64
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    features: np.ndarray  # float32 (n, k), C-contiguous
    feature_names: tuple[str, ...]
    timeframe: str = "1m"

    def __len__(self) -> int:
        return len(self.close)

    @classmethod
    def from_arrays(
        cls,
        candles: Candles,
        features: np.ndarray,
        feature_names: list[str] | tuple[str, ...],
        *,
        field: str = "indicators",
    ) -> MarketData:
        """Check and pack ``candles`` and their aligned ``features``; errors name ``field``."""
        feats = np.ascontiguousarray(features, dtype=np.float32)
        if feats.ndim != 2 or feats.shape[0] != len(candles):
            raise TradecoreError(f"{field}: feature matrix has shape {feats.shape}, expected ({len(candles)}, k)")
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
        prices = {}
        for name in ("open", "high", "low", "close"):
            arr = np.ascontiguousarray(getattr(candles, name), dtype=np.float64)
            if not np.isfinite(arr).all() or (arr <= 0).any():
                raise TradecoreError(f"source: {name} prices must be finite and positive")
            prices[name] = arr
        if (prices["high"] < np.maximum(prices["open"], prices["close"])).any() or (
            prices["low"] > np.minimum(prices["open"], prices["close"])
        ).any():
            raise TradecoreError("source: inconsistent candles (high below open/close or low above them)")
        return cls(
            time=np.ascontiguousarray(candles.time, dtype=np.int64),
            features=feats,
            feature_names=tuple(feature_names),
            timeframe=candles.timeframe,
            **prices,
        )
