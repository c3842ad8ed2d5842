"""Chronological train/validation/test splits with embargo gaps, and anchored walk-forward folds.

Bars are ``0 .. n-1`` of the usable (post-warm-up) data, offset by ``first`` into candle coordinates.
Parts are in time order train -> validation -> test, separated by ``embargo`` bars that belong to no
part; an env built on a part reads only that part's bars (its observation window included).

Walk-forward (``folds = k``): the test block keeps its size and slides; fold ``i`` ends
``(k - 1 - i)`` test blocks before the end of the data, takes its test block at its end, validation
before it, and trains on everything before that (anchored at the first bar). ``folds = 1`` is the
plain split, with train getting what the embargo gaps leave.
"""

from __future__ import annotations

from tradecore.config.env import SplitConfig
from tradecore.env.episodes import bars_needed
from tradecore.errors import TradecoreError

PARTS = ("train", "validation", "test")


def choose_embargo(config: SplitConfig, *, window: int, lookback: int) -> tuple[int, str]:
    """The bars between parts and where the number comes from: ``split.embargo_bars`` when set, else the
    features' look-back, never below ``env.window``.

    Why the look-back: a feature row reads the ``lookback`` candles before it (the largest indicator
    warm-up plus the rows of its normalisation window; see :func:`tradecore.features.pipeline.lookback`),
    so with ``lookback`` bars between parts no candle feeds both a part's observations and an earlier
    part's. The observation window adds nothing to it: an env starts ``window - 1`` bars into its part and
    reads only that part's rows, so a window never reaches back over the gap. The ``env.window`` floor is
    the documented minimum; it is larger than the look-back only for short, unnormalised features.
    """
    if config.embargo_bars is not None:
        return config.embargo_bars, "split.embargo_bars"
    if lookback >= window:
        return lookback, "feature look-back"
    return window, "env.window"


def compute_splits(
    n: int, config: SplitConfig, *, window: int, embargo: int, first: int = 0, fold: int | None = None
) -> dict[str, range]:
    """The parts of fold ``fold`` (default: ``config.fold``) as candle-index ranges; empty parts omitted."""
    fold = config.fold if fold is None else fold
    if not 0 <= fold < config.folds:
        raise TradecoreError(f"split.fold: must be in [0, {config.folds - 1}], got {fold}")
    test_len = int(n * config.test)
    val_len = int(n * config.validation)
    end = n - (config.folds - 1 - fold) * test_len
    test_start = end - test_len
    val_stop = test_start - embargo if test_len else end
    val_start = val_stop - val_len
    train_stop = val_start - embargo if val_len else val_stop
    bounds = {
        "train": (0, train_stop),  # anchored: training always starts at the first usable bar
        "validation": (val_start, val_stop),
        "test": (test_start, end),
    }
    need = bars_needed(window)
    out: dict[str, range] = {}
    for part in PARTS:
        start, stop = bounds[part]
        if part != "train" and getattr(config, part) == 0:
            continue
        if stop - start < need:
            raise TradecoreError(
                f"split.{part}: {max(stop - start, 0)} bars left after warm-up, embargo ({embargo} bars) and "
                f"{config.folds} fold(s), but env.window={window} needs at least {need}; use more data, a "
                f"larger split.{part}, a smaller window, a smaller split.embargo_bars or fewer folds"
            )
        out[part] = range(first + start, first + stop)
    return out
