"""Cross-asset features of a portfolio: each asset's return against the equal-weight basket of all of them.

A :class:`CrossAssetIndicator` computes from every asset's candles at once and returns, per column, one row per
asset; the portfolio feature pipeline hands each asset its row as one more of its features (named
``asset:label``), normalised and warmed up like any indicator. Causal: row ``t`` uses bars ``<= t`` of every
asset. The basket is the equal-weight mean of the assets' 1-bar log returns.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence

import numpy as np

from tradecore.features.params import CrossAssetParams
from tradecore.interfaces import Candles, Indicator


class CrossAssetIndicator(Indicator):
    """An indicator of every asset at once; :meth:`compute_assets` returns ``(assets, n)`` arrays per column.
    It has no single-asset form (``compute`` refuses), so a single-pair manifest cannot use it."""

    def __init__(self, params: CrossAssetParams) -> None:
        self.params = params

    def columns(self) -> list[str]:
        return ["value"]

    @property
    def warmup(self) -> int:
        return self.params.period

    def compute(self, candles: Candles) -> Mapping[str, np.ndarray]:
        from tradecore.errors import TradecoreError

        raise TradecoreError(
            f'indicators: {type(self).__name__} is a cross-asset feature; it needs env.type "portfolio"'
        )

    @abstractmethod
    def compute_assets(self, candles: Sequence[Candles]) -> Mapping[str, np.ndarray]:
        """Per column, a float64 ``(assets, n)`` array; NaN during the warm-up."""


def log_returns(candles: Sequence[Candles]) -> np.ndarray:
    """``(assets, n)`` 1-bar log returns of the close; NaN at row 0."""
    close = np.log(np.stack([np.asarray(c.close, dtype=np.float64) for c in candles]))
    out = np.full(close.shape, np.nan)
    out[:, 1:] = close[:, 1:] - close[:, :-1]
    return out


def _rolling_sum(x: np.ndarray, period: int) -> np.ndarray:
    """Sum over the last ``period`` columns (NaN until ``period`` values are in), along the last axis."""
    csum = np.cumsum(np.nan_to_num(x), axis=-1)
    out = np.full(x.shape, np.nan)
    out[..., period - 1 :] = csum[..., period - 1 :]
    out[..., period:] -= csum[..., :-period]
    return out


class BasketReturn(CrossAssetIndicator):
    """Log return of the equal-weight basket over ``period`` bars (the same value for every asset)."""

    def compute_assets(self, candles):
        r = log_returns(candles)
        basket = _rolling_sum(r.mean(axis=0), self.params.period)
        basket[: self.params.period] = np.nan
        return {"value": np.repeat(basket[None, :], len(candles), axis=0)}


class RelativeStrength(CrossAssetIndicator):
    """The asset's log return over ``period`` bars minus the basket's."""

    def compute_assets(self, candles):
        r = log_returns(candles)
        rel = _rolling_sum(r - r.mean(axis=0), self.params.period)
        rel[:, : self.params.period] = np.nan
        return {"value": rel}


class BasketCorrelation(CrossAssetIndicator):
    """Rolling correlation of the asset's 1-bar log returns with the basket's over ``period`` bars (0 when
    either is flat over the window)."""

    def compute_assets(self, candles):
        p = self.params.period
        r = log_returns(candles)
        b = r.mean(axis=0)[None, :]
        mean_r, mean_b = _rolling_sum(r, p) / p, _rolling_sum(b, p) / p
        cov = _rolling_sum(r * b, p) / p - mean_r * mean_b
        var_r = np.maximum(_rolling_sum(r * r, p) / p - mean_r**2, 0.0)
        var_b = np.maximum(_rolling_sum(b * b, p) / p - mean_b**2, 0.0)
        den = np.sqrt(var_r * var_b)
        corr = np.where(den > 1e-18, cov / np.where(den > 1e-18, den, 1.0), 0.0)
        corr = np.clip(corr, -1.0, 1.0)
        corr[:, :p] = np.nan
        return {"value": corr}
