"""Report plots of long rollouts: bounded points per line, and no spike lost to downsampling."""

from __future__ import annotations

import numpy as np

from tradecore.runs.series import PLOT_BUCKETS, envelope, minmax_line


def test_minmax_line_keeps_every_extreme_of_a_million_bars():
    rng = np.random.default_rng(0)
    values = np.cumsum(rng.normal(size=1_000_003))
    values[777_777] = values.max() + 50  # a one-bar wick
    values[123_457] = values.min() - 50
    x, y = minmax_line(values)
    assert len(x) <= 2 * PLOT_BUCKETS + 3
    assert np.all(np.diff(x) > 0) and x[0] >= 0 and x[-1] == len(values) - 1
    np.testing.assert_array_equal(y, values[x])
    assert 777_777 in x and 123_457 in x
    # every bucket's range is drawn: the line's min/max over a bucket equal the data's
    size = -(-len(values) // PLOT_BUCKETS)
    for start in (0, 500 * size, (PLOT_BUCKETS - 2) * size):
        inside = (x >= start) & (x < start + size)
        assert y[inside].max() == values[start : start + size].max()
        assert y[inside].min() == values[start : start + size].min()


def test_envelope_shows_a_one_bar_drawdown_and_short_series_untouched():
    drawdown = np.zeros(1_000_000)
    drawdown[654_321] = 0.37
    x, low, high = envelope(drawdown)
    assert len(x) <= PLOT_BUCKETS + 1 and high.max() == 0.37 and low.max() == 0.0
    (bucket,) = np.flatnonzero(high)
    assert x[bucket] <= 654_321 < x[bucket + 1]
    short = np.arange(10.0)
    x, low, high = envelope(short)
    np.testing.assert_array_equal(low, short)
    x, y = minmax_line(short)
    np.testing.assert_array_equal(y, short)
