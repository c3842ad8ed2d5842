"""Causal normalisation kernels: z-scores from rolling or expanding statistics of rows <= t only.

Each writes float32 z-scores for rows ``start:`` of one feature column straight into a column of the
feature matrix. Statistics start at the column's first valid row (``first``) and need ``window`` rows
before the first output, so ``start >= first + window - 1``. A flat stretch (std 0) gives 0.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradecore.features.kernels import FLAT, rolling_stats


@njit(cache=True)
def rolling_zscore(x, first, window, start, out):
    """z_t = (x_t - mean(x[t-window+1..t])) / std(same rows, ddof 0) for t >= start, into ``out[t - start]``."""
    empty = np.empty(0)
    # statistics are only needed from ``start``; begin the window as late as the causal rule allows
    rolling_stats(x, start - window + 1, window, 0, empty, empty, out, start)


@njit(cache=True)
def expanding_zscore(x, first, window, start, out):
    """z_t = (x_t - mean(x[first..t])) / std(same rows, ddof 0) for t >= start (Welford updates)."""
    n = x.shape[0]
    count = 0
    mean = 0.0
    m2 = 0.0
    for t in range(first, n):
        count += 1
        inv = 1.0 / count  # off the loop-carried chain: the chain is sub, mul, add
        delta = x[t] - mean
        mean += delta * inv
        m2 += delta * (x[t] - mean)
        if t >= start:
            var = m2 * inv
            flat = var <= FLAT * (mean * mean + var)
            out[t - start] = 0.0 if flat else (x[t] - mean) / np.sqrt(var)
