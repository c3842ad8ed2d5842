"""The rolling mean/std kernel against an exact two-pass computation on hostile series (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tradecore.features.kernels import rolling_mean_std


def exact(x: np.ndarray, period: int, ddof: int) -> tuple[np.ndarray, np.ndarray]:
    windows = np.lib.stride_tricks.sliding_window_view(x, period)
    mean = windows.mean(axis=1)
    std = np.sqrt(((windows - mean[:, None]) ** 2).sum(axis=1) / (period - ddof))
    return mean, std


@st.composite
def series(draw):
    """Pieces of random walks at very different levels and volatilities, with flat runs and jumps."""
    pieces = []
    level = draw(st.floats(1e-6, 1e6))
    for _ in range(draw(st.integers(1, 6))):
        n = draw(st.integers(1, 300))
        kind = draw(st.sampled_from(["walk", "flat", "jump", "noise"]))
        seed = draw(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        if kind == "walk":
            piece = level * np.exp(np.cumsum(rng.normal(0, draw(st.floats(1e-9, 0.1)), n)))
        elif kind == "flat":
            piece = np.full(n, level)
        elif kind == "jump":
            level *= draw(st.floats(1e-4, 1e4))
            piece = np.full(n, level)
        else:
            piece = level + rng.normal(0, abs(level) * draw(st.floats(1e-12, 1.0)), n)
        pieces.append(piece)
        level = float(piece[-1])
    return np.ascontiguousarray(np.concatenate(pieces))


@settings(max_examples=150, deadline=None)
@given(x=series(), period=st.integers(2, 80), ddof=st.sampled_from([0, 1]))
def test_rolling_std_is_accurate_on_hostile_series(x, period, ddof):
    n = len(x)
    mean, std = np.empty(n), np.empty(n)
    rolling_mean_std(x, 0, period, ddof, mean, std)
    assert np.isnan(mean[: period - 1]).all() and np.isnan(std[: period - 1]).all()
    if n < period:
        return
    ref_mean, ref_std = exact(x, period, ddof)
    scale = np.abs(np.lib.stride_tricks.sliding_window_view(x, period)).max(axis=1)
    got_mean, got_std = mean[period - 1 :], std[period - 1 :]
    assert np.all(np.abs(got_mean - ref_mean) <= 1e-12 * scale)
    # the exact std itself carries ~eps * scale of rounding; beyond that we must agree to 1e-9
    assert np.all(np.abs(got_std - ref_std) <= 1e-9 * ref_std + 1e-12 * scale)
