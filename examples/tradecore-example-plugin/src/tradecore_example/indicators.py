"""The ``hl-spread`` indicator: rolling mean of (high - low) / close, causal."""

from __future__ import annotations

import numpy as np

from tradecore.api import Candles, Indicator
from tradecore_example.params import HlSpreadParams


class HlSpread(Indicator):
    def __init__(self, params: HlSpreadParams) -> None:
        self.period = params.period

    def columns(self) -> list[str]:
        return ["hl_spread"]

    @property
    def warmup(self) -> int:
        return self.period - 1

    def compute(self, candles: Candles) -> dict[str, np.ndarray]:
        spread = (candles.high - candles.low) / candles.close
        out = np.full(len(spread), np.nan)
        if len(spread) >= self.period:
            # rolling mean via a cumulative sum: row t sees rows t-period+1..t only
            csum = np.cumsum(np.concatenate(([0.0], spread)))
            out[self.period - 1 :] = (csum[self.period :] - csum[: -self.period]) / self.period
        return {"hl_spread": out}
