"""The features an experiment uses when its manifest lists no indicators: log return and bar range."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tradecore.interfaces import Candles, Indicator


class DefaultFeatures(Indicator):
    """``log_return`` = log(C[t] / C[t-1]) (NaN at row 0) and ``range`` = (H[t] - L[t]) / C[t]."""

    def columns(self) -> list[str]:
        return ["log_return", "range"]

    @property
    def warmup(self) -> int:
        return 1

    def compute(self, candles: Candles) -> Mapping[str, np.ndarray]:
        close = np.asarray(candles.close, dtype=np.float64)
        log_return = np.full(len(close), np.nan)
        log_return[1:] = np.diff(np.log(close))
        return {"log_return": log_return, "range": (np.asarray(candles.high) - np.asarray(candles.low)) / close}
