"""The runtime indicator: calls one TA-Lib function on candle columns (imports talib)."""

from __future__ import annotations

import numpy as np
import talib

from tradecore.api import Candles, Indicator


class TalibIndicator(Indicator):
    """``TalibIndicator(params)``: the function, inputs and outputs come from the params model's class."""

    def __init__(self, params) -> None:
        self.params = params
        model = type(params)
        self.function = model.talib_function
        self._call = getattr(talib, self.function)
        self._warmup = params.lookback()

    def columns(self) -> list[str]:
        return list(type(self.params).talib_outputs)

    @property
    def warmup(self) -> int:
        return self._warmup

    def compute(self, candles: Candles):
        arrays = []
        for name, column in type(self.params).talib_inputs.items():
            chosen = [getattr(self.params, name)] if isinstance(column, str) else column
            arrays += [np.ascontiguousarray(getattr(candles, c), dtype=np.float64) for c in chosen]
        result = self._call(*arrays, **self.params.talib_kwargs())
        outputs = result if isinstance(result, tuple) else (result,)
        out = {}
        for name, values in zip(self.columns(), outputs):
            values = np.asarray(values, dtype=np.float64)  # candlestick patterns return int32
            values[: self._warmup] = np.nan  # TA-Lib leaves 0 (not NaN) in the lookback of integer outputs
            out[name] = values
        return out

    def __repr__(self) -> str:
        return f"TalibIndicator({self.function}, {self.params!r})"
