"""Features: standard indicators (numba kernels, TA-Lib conventions) and the causal feature pipeline.

- :mod:`tradecore.features.params`: params models of the standard indicators (pydantic only)
- :mod:`tradecore.features.standard`: the indicators (``Class(params)``; columns, warm-up, compute)
- :mod:`tradecore.features.kernels`: numba kernels written after TA-Lib's C code (cached on disk)
- :mod:`tradecore.features.normalize`: causal rolling / expanding z-scores
- :mod:`tradecore.features.labels`: feature names from manifest entries (``rsi_14``, ``macd_12_26_9.signal``)
- :mod:`tradecore.features.pipeline`: ``build_features(candles, [(label, indicator), ...]) -> FeatureSet``

This package itself stays light (no numpy/numba at import), so listing components never pays for the kernels.
"""
