"""The standard indicators: :class:`~tradecore.interfaces.Indicator` factories over the numba kernels.

Each class is built as ``Class(params)`` from its validated params model (:mod:`tradecore.features.params`),
declares its output columns and its warm-up (TA-Lib's lookback: the leading NaN rows), and returns
float64 arrays of ``len(candles)``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tradecore.interfaces import Candles, Indicator


def _kernels():
    """The numba kernels, imported on first compute: listing, validating and sizing warm-ups never pay
    numba's import."""
    from tradecore.features import kernels

    return kernels


def _column(candles: Candles, name: str) -> np.ndarray:
    return np.ascontiguousarray(getattr(candles, name), dtype=np.float64)


def _empty(candles: Candles) -> np.ndarray:
    return np.empty(len(candles), dtype=np.float64)


class StandardIndicator(Indicator):
    """Common plumbing: params kept, one output column named after the component unless overridden."""

    output_columns: ClassVar[tuple[str, ...]] = ("value",)
    #: False for features already on a fixed scale (the pipeline leaves them unnormalised)
    normalize: ClassVar[bool] = True

    def __init__(self, params) -> None:
        self.params = params

    def columns(self) -> list[str]:
        return list(self.output_columns)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"


class Returns(StandardIndicator):
    """Simple return over ``period`` bars, TA-Lib's ROCP."""

    output_columns = ("returns",)
    log = False

    @property
    def warmup(self) -> int:
        return self.params.period

    def compute(self, candles):
        out = _empty(candles)
        _kernels().rate_of_change(_column(candles, self.params.source), self.params.period, self.log, out)
        return {self.output_columns[0]: out}


class LogReturns(Returns):
    """Log return over ``period`` bars: ``log(x / x[-period])``."""

    output_columns = ("log_returns",)
    log = True


class _MovingAverage(StandardIndicator):
    kernel = "sma"  #: the kernel's name in tradecore.features.kernels

    @property
    def warmup(self) -> int:
        return self.params.period - 1

    def compute(self, candles):
        out = _empty(candles)
        getattr(_kernels(), self.kernel)(_column(candles, self.params.source), self.params.period, out)
        return {self.output_columns[0]: out}


class SMA(_MovingAverage):
    output_columns = ("sma",)
    kernel = "sma"


class EMA(_MovingAverage):
    output_columns = ("ema",)
    kernel = "ema"


class WMA(_MovingAverage):
    output_columns = ("wma",)
    kernel = "wma"


class RSI(StandardIndicator):
    output_columns = ("rsi",)

    @property
    def warmup(self) -> int:
        return self.params.period

    def compute(self, candles):
        out = _empty(candles)
        _kernels().rsi(_column(candles, self.params.source), self.params.period, out)
        return {"rsi": out}


class MACD(StandardIndicator):
    output_columns = ("macd", "signal", "hist")

    @property
    def warmup(self) -> int:
        return self.params.slow + self.params.signal - 2

    def compute(self, candles):
        line, signal, hist = _empty(candles), _empty(candles), _empty(candles)
        p = self.params
        _kernels().macd(_column(candles, p.source), p.fast, p.slow, p.signal, line, signal, hist)
        return {"macd": line, "signal": signal, "hist": hist}


class ATR(StandardIndicator):
    output_columns = ("atr",)

    @property
    def warmup(self) -> int:
        return self.params.period

    def compute(self, candles):
        out = _empty(candles)
        _kernels().atr(
            _column(candles, "high"), _column(candles, "low"), _column(candles, "close"), self.params.period, out
        )
        return {"atr": out}


class BollingerBands(StandardIndicator):
    output_columns = ("upper", "middle", "lower")

    @property
    def warmup(self) -> int:
        return self.params.period - 1

    def compute(self, candles):
        upper, middle, lower = _empty(candles), _empty(candles), _empty(candles)
        _kernels().bbands(
            _column(candles, self.params.source), self.params.period, float(self.params.nbdev), upper, middle, lower
        )
        return {"upper": upper, "middle": middle, "lower": lower}


class Volatility(StandardIndicator):
    """Rolling standard deviation of 1-bar log returns of the close."""

    output_columns = ("volatility",)

    @property
    def warmup(self) -> int:
        return self.params.period

    def compute(self, candles):
        out, scratch = _empty(candles), _empty(candles)
        _kernels().log_return_volatility(_column(candles, "close"), self.params.period, self.params.ddof, out, scratch)
        return {"volatility": out}


class ZScore(StandardIndicator):
    """(x - SMA) / population std over the same window; 0 where the window is flat."""

    output_columns = ("zscore",)

    @property
    def warmup(self) -> int:
        return self.params.period - 1

    def compute(self, candles):
        out, scratch = _empty(candles), _empty(candles)
        _kernels().zscore(_column(candles, self.params.source), self.params.period, out, scratch)
        return {"zscore": out}


class VWAP(StandardIndicator):
    """Rolling volume-weighted average of the typical price (H+L+C)/3."""

    output_columns = ("vwap",)

    @property
    def warmup(self) -> int:
        return self.params.period - 1

    def compute(self, candles):
        out = _empty(candles)
        _kernels().rolling_vwap(
            _column(candles, "high"),
            _column(candles, "low"),
            _column(candles, "close"),
            _column(candles, "volume"),
            self.params.period,
            out,
        )
        return {"vwap": out}


class OBV(StandardIndicator):
    output_columns = ("obv",)

    def compute(self, candles):
        out = _empty(candles)
        _kernels().obv(_column(candles, self.params.source), _column(candles, "volume"), out)
        return {"obv": out}


class Stochastic(StandardIndicator):
    output_columns = ("k", "d")

    @property
    def warmup(self) -> int:
        p = self.params
        return p.fastk_period + p.slowk_period + p.slowd_period - 3

    def compute(self, candles):
        k, d, scratch = _empty(candles), _empty(candles), _empty(candles)
        p = self.params
        _kernels().stoch(
            _column(candles, "high"),
            _column(candles, "low"),
            _column(candles, "close"),
            p.fastk_period,
            p.slowk_period,
            p.slowd_period,
            k,
            d,
            scratch,
        )
        return {"k": k, "d": d}


class ADX(StandardIndicator):
    output_columns = ("adx",)

    @property
    def warmup(self) -> int:
        return 2 * self.params.period - 1

    def compute(self, candles):
        out = _empty(candles)
        _kernels().adx(
            _column(candles, "high"), _column(candles, "low"), _column(candles, "close"), self.params.period, out
        )
        return {"adx": out}


class TimeFeatures(StandardIndicator):
    """Hour of day (fractional, UTC) and day of week (Monday = 0) as points on the unit circle."""

    normalize = False

    def columns(self) -> list[str]:
        cols = []
        if self.params.hour:
            cols += ["hour_sin", "hour_cos"]
        if self.params.day_of_week:
            cols += ["dow_sin", "dow_cos"]
        return cols

    def compute(self, candles):
        t = np.ascontiguousarray(candles.time, dtype=np.int64)
        hour = [_empty(candles), _empty(candles)] if self.params.hour else [np.empty(0), np.empty(0)]
        dow = [_empty(candles), _empty(candles)] if self.params.day_of_week else [np.empty(0), np.empty(0)]
        _kernels().cyclic_time(t, *hour, *dow, self.params.hour, self.params.day_of_week)
        out = {}
        if self.params.hour:
            out["hour_sin"], out["hour_cos"] = hour
        if self.params.day_of_week:
            out["dow_sin"], out["dow_cos"] = dow
        return out
