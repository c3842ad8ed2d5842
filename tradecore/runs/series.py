"""A run's recorded series, read for plots and charts, and long ones thinned to what a plot can show.

Long rollouts are drawn from per-bucket min/max envelopes (at most ~2,400 points per line, about what a
900-pixel plot can show): spikes stay visible and a million bars plot in about a second. The PNG report
(:mod:`tradecore.runs.report`) and the interactive charts (:mod:`tradecore.runs.charts`) share them.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

#: buckets per plotted line: a 900-pixel-wide PNG cannot show more (lines get 2 points per bucket)
PLOT_BUCKETS = 1200
#: the agent's arrays the plots and charts read, besides every policy's equity and the reward terms (``weights``:
#: a portfolio's, steps x assets)
AGENT_ARRAYS = ("exposure", "price", "time", "open", "high", "low", "weights")


def buckets(n: int, count: int = PLOT_BUCKETS) -> int:
    """Bars per bucket so that ``n`` bars make at most ``count`` buckets."""
    return max(1, -(-n // count))


def envelope(values: np.ndarray, count: int = PLOT_BUCKETS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, low, high): the min and max of each of at most ``count`` buckets, x at each bucket's first bar.

    A plot cannot show more points than it has pixels; the envelope keeps what matters when a
    million bars are squeezed into a thousand: every spike (a drawdown, a price wick) stays visible.
    """
    n = len(values)
    size = buckets(n, count)
    if size == 1:
        return np.arange(n), values, values
    starts = np.arange(0, n, size)
    low, high = np.minimum.reduceat(values, starts), np.maximum.reduceat(values, starts)
    # close the last bucket at the last bar, so step="post" fills draw it full width
    return np.append(starts, n - 1), np.append(low, low[-1]), np.append(high, high[-1])


def minmax_line(values: np.ndarray, count: int = PLOT_BUCKETS) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of a line through each bucket's min and max in time order (plus the last value).

    At most ``2 * count + 1`` points, drawn as one line it covers the same pixels as the full series
    (the M4 idea: a bucket narrower than a pixel only needs its extremes).
    """
    n = len(values)
    size = buckets(n, count)
    if size == 1:
        return np.arange(n), values
    usable = (n // size) * size
    blocks = values[:usable].reshape(-1, size)
    offsets = np.arange(0, usable, size)
    lo, hi = blocks.argmin(axis=1), blocks.argmax(axis=1)
    first, second = np.minimum(lo, hi), np.maximum(lo, hi)
    x = np.empty(2 * len(offsets), dtype=np.int64)
    x[0::2], x[1::2] = offsets + first, offsets + second
    if usable < n:  # the ragged tail: its own extremes
        tail = values[usable:]
        x = np.concatenate([x, usable + np.sort([tail.argmin(), tail.argmax()])])
    x = np.append(x, n - 1)
    return x, values[x]


def bucket_means(values: np.ndarray, count: int = PLOT_BUCKETS) -> tuple[np.ndarray, np.ndarray]:
    """(x, rows): the mean of each of at most ``count`` buckets of rows (weights stack; extremes would not)."""
    n = len(values)
    size = buckets(n, count)
    starts = np.arange(0, n, size)
    sums = np.add.reduceat(values, starts, axis=0)
    lengths = np.diff(np.append(starts, n))[:, None]
    return starts, sums / lengths


def is_wide(*series: np.ndarray) -> bool:
    """Positive values spanning more than two orders of magnitude: a linear y-axis would show a flat line."""
    positive = [y[y > 0] for y in series]
    positive = [y for y in positive if len(y)]
    if not positive:
        return False
    return max(float(y.max()) for y in positive) / min(float(y.min()) for y in positive) > 100


def load_rollouts(path: Path, agent_keys: bool = True) -> dict[str, dict[str, np.ndarray]]:
    """``{policy: {array name: array}}`` from an ``evaluation/<split>.npz``: what the plots use.

    Every policy's equity, and the agent's exposure, time, candles (``price`` is the close) and reward
    terms; the other arrays stay unread in the (compressed) file -- decompressing them is most of the
    cost on long rollouts.
    """
    out: dict[str, dict[str, np.ndarray]] = {}
    with np.load(path, allow_pickle=False) as data:
        for key in data.files:
            policy, _, name = key.partition("/")
            wanted = name == "equity" or (
                agent_keys and policy == "agent" and (name in AGENT_ARRAYS or name.startswith("reward_"))
            )
            if wanted:
                out.setdefault(policy, {})[name] = data[key]
    return out


def read_training_curve(path: Path) -> dict[str, list[float]]:
    if not path.is_file():
        return {}
    columns: dict[str, list[float]] = {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            for key, value in row.items():
                try:
                    columns.setdefault(key, []).append(float(value))
                except (TypeError, ValueError):
                    columns.setdefault(key, []).append(float("nan"))
    return columns
