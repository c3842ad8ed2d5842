"""Features of a portfolio: the same indicators for every asset, plus cross-asset ones, as one float32 block.

Every asset gets the manifest's indicator list computed on its own candles (on the aligned grid) and the
cross-asset indicators' row for it (:mod:`tradecore.features.cross_asset`), then the usual causal
normalisation (:func:`tradecore.features.pipeline.build_features`: statistics of rows <= t only). Features are
named ``asset:feature`` (``BTC/USD:rsi_14``). ``values[a, i, j]`` is asset ``a``'s feature ``j`` at grid row
``start + i``; one asset's rows are contiguous, so an observation window is one copy per asset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tradecore.data.align import AlignedCandles
from tradecore.features.cross_asset import CrossAssetIndicator
from tradecore.features.pipeline import Normalize, build_features, lookback
from tradecore.interfaces import Candles, Indicator


@dataclass(frozen=True)
class PortfolioFeatures:
    """Per-asset features of grid rows ``start:``: ``values`` is float32 ``(assets, rows, features)``."""

    values: np.ndarray
    names: list[str]  # one asset's feature names, in column order
    symbols: tuple[str, ...]
    start: int

    @property
    def qualified_names(self) -> list[str]:
        """Every asset's features as ``asset:feature``, asset-major (the observation's order)."""
        return [f"{s}:{n}" for s in self.symbols for n in self.names]


class _AssetRow(Indicator):
    """Asset ``asset``'s row of a cross-asset indicator, as a plain indicator (computed once for all assets)."""

    def __init__(self, cross: CrossAssetIndicator, asset: int, cache: dict[int, Mapping[str, np.ndarray]]) -> None:
        self.cross, self.asset, self.cache = cross, asset, cache
        self.normalize = getattr(cross, "normalize", True)

    def columns(self) -> list[str]:
        return self.cross.columns()

    @property
    def warmup(self) -> int:
        return self.cross.warmup

    def compute(self, candles: Candles) -> Mapping[str, np.ndarray]:
        rows = self.cache[id(self.cross)]
        return {k: v[self.asset] for k, v in rows.items()}


def build_portfolio_features(
    aligned: AlignedCandles,
    indicators: Sequence[tuple[str, Indicator]],
    *,
    normalize: Normalize = "rolling",
    normalize_window: int = 500,
) -> PortfolioFeatures:
    """Every asset's features; a :class:`CrossAssetIndicator` in ``indicators`` is computed across assets."""
    candles = [aligned.candles(a) for a in range(aligned.assets)]
    cache = {id(ind): ind.compute_assets(candles) for _, ind in indicators if isinstance(ind, CrossAssetIndicator)}
    blocks, names, start = [], None, 0
    for a, asset_candles in enumerate(candles):
        own = [(label, _AssetRow(ind, a, cache) if id(ind) in cache else ind) for label, ind in indicators]
        fs = build_features(asset_candles, own, normalize=normalize, normalize_window=normalize_window)
        blocks.append(fs.values)
        names, start = fs.names, fs.start
    return PortfolioFeatures(np.ascontiguousarray(np.stack(blocks)), list(names), aligned.symbols, start)


def portfolio_lookback(
    indicators: Sequence[tuple[str, Indicator]], *, normalize: Normalize = "rolling", normalize_window: int = 500
) -> int:
    """Grid rows a feature row reads before it (the same for every asset)."""
    return lookback(indicators, normalize=normalize, normalize_window=normalize_window)
