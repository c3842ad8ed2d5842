"""Features: standard indicators (numba kernels, TA-Lib conventions) and the causal feature pipeline.

Import :func:`tradecore.features.pipeline.build_features` for the matrix; this package itself stays
light (no numpy/numba at import) so listing components never pays for the kernels.
"""
