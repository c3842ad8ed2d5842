"""The feature pipeline: indicators -> one contiguous float32 matrix with names, causally normalised.

Row ``i`` of :attr:`FeatureSet.values` is candle ``start + i``. The rows dropped at the front are
explicit: each indicator's warm-up (its leading NaN rows) plus, when normalising, the ``window - 1``
rows the first z-score needs. Normalisation only ever uses statistics of rows <= t (rolling or
expanding), never the full series, so no future bar leaks into a feature.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from tradecore.errors import TradecoreError
from tradecore.features.labels import feature_names
from tradecore.interfaces import Candles, Indicator

Normalize = Literal["rolling", "expanding", "none"]
NORMALIZE_MODES = ("rolling", "expanding", "none")


@dataclass(frozen=True)
class FeatureSet:
    """Features of candles ``start:``: ``values[i, j]`` is feature ``names[j]`` at candle ``start + i``."""

    values: np.ndarray
    names: list[str]
    start: int
    warmup_by_indicator: dict[str, int]
    normalize: str = "rolling"
    normalize_window: int = 500
    #: feature name -> whether it was normalised (fixed-scale features such as time are not)
    normalized: dict[str, bool] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.values.shape[0]

    def column(self, name: str) -> np.ndarray:
        """One feature as a (strided) view."""
        try:
            return self.values[:, self.names.index(name)]
        except ValueError:
            raise KeyError(f"no feature {name!r}; features: {', '.join(self.names)}") from None


def build_features(
    candles: Candles,
    indicators: Sequence[tuple[str, Indicator]],
    *,
    normalize: Normalize = "rolling",
    normalize_window: int = 500,
) -> FeatureSet:
    """Compute every indicator on ``candles`` and stack the results into a :class:`FeatureSet`.

    ``indicators`` pairs a label (the feature-name prefix, e.g. ``rsi_14``) with a built indicator.
    Raises :class:`TradecoreError` naming the indicator and column for bad outputs (wrong columns or
    length, NaN or inf after the warm-up) and when no rows are left after the warm-up.
    """
    _check_request(indicators, normalize, normalize_window)
    n = len(candles)
    plan, start = _plan(indicators, n, normalize, normalize_window)
    names = [name for p in plan for name in feature_names(p.label, p.columns)]
    values = np.empty((n - start, len(names)), dtype=np.float32)
    # columns are normalised into a contiguous block, then copied into the row-major matrix in row
    # chunks: writing each column straight into the matrix would stream the whole matrix once per column
    block = _ColumnBlock(values)
    for p in plan:
        outputs = p.indicator.compute(candles)
        _check_outputs(p.label, p.columns, outputs)
        for column, name in zip(p.columns, feature_names(p.label, p.columns)):
            data = np.ascontiguousarray(outputs[column], dtype=np.float64)
            if data.shape != (n,):
                raise TradecoreError(
                    f"indicator {p.label!r}: column {column!r} has shape {data.shape}, "
                    f"expected ({n},) (one value per candle)"
                )
            _check_finite(name, data, p.warmup, candles)
            _fill_column(block.next_column(), name, data, p, start, normalize, normalize_window)
        del outputs  # keep one indicator's float64 outputs alive at a time
    block.flush()
    return FeatureSet(
        values=values,
        names=names,
        start=start,
        warmup_by_indicator={p.label: p.warmup for p in plan},
        normalize=normalize,
        normalize_window=normalize_window,
        normalized={name: p.normalize for p in plan for name in feature_names(p.label, p.columns)},
    )


def _check_request(indicators: Sequence[tuple[str, Indicator]], normalize: str, normalize_window: int) -> None:
    if normalize not in NORMALIZE_MODES:
        raise TradecoreError(f"normalize must be one of {', '.join(NORMALIZE_MODES)}, got {normalize!r}")
    if normalize != "none" and (not isinstance(normalize_window, int) or normalize_window < 2):
        raise TradecoreError(f"normalize_window must be an integer >= 2, got {normalize_window!r}")
    labels = [label for label, _ in indicators]
    if len(set(labels)) != len(labels):
        dupes = sorted({label for label in labels if labels.count(label) > 1})
        raise TradecoreError(f"indicator labels must be unique; repeated: {', '.join(dupes)}")


def lookback(
    indicators: Sequence[tuple[str, Indicator]], *, normalize: Normalize = "rolling", normalize_window: int = 500
) -> int:
    """How many candles before it a feature row reads: the largest indicator warm-up, plus the
    ``normalize_window - 1`` earlier rows of a normalised indicator's first z-score. It is also
    :attr:`FeatureSet.start`, the rows dropped at the front (computed here without any candles)."""
    extra = normalize_window - 1 if normalize != "none" else 0
    return max((_needs(label, indicator, normalize, extra)[1] for label, indicator in indicators), default=0)


def _needs(label: str, indicator: Indicator, normalize: str, extra: int) -> tuple[bool, int]:
    """Whether ``indicator``'s columns are normalised, and the rows dropped before its first feature row."""
    normalized = normalize != "none" and getattr(indicator, "normalize", True)
    return normalized, _warmup(label, indicator) + (extra if normalized else 0)


def _plan(
    indicators: Sequence[tuple[str, Indicator]], n: int, normalize: str, normalize_window: int
) -> tuple[list[_Planned], int]:
    """Each indicator's warm-up and columns, and the first row every feature has, known before computing
    anything, so a hopeless request fails fast."""
    extra = normalize_window - 1 if normalize != "none" else 0
    plan: list[_Planned] = []
    for label, indicator in indicators:
        warmup = _warmup(label, indicator)
        if warmup >= n:
            raise TradecoreError(
                f"indicator {label!r} needs {warmup} warm-up rows but the candles have only {n}; "
                "load more data or shorten the indicator's periods"
            )
        columns = list(indicator.columns())
        _check_columns(label, columns)
        normalized, needs = _needs(label, indicator, normalize, extra)
        plan.append(_Planned(label, indicator, warmup, columns, normalized, needs))
    start = max([p.needs for p in plan], default=0)
    if start >= n:
        worst = max(plan, key=lambda p: p.needs)
        raise TradecoreError(
            f"no rows left: {worst.label!r} needs {worst.warmup} warm-up rows"
            + (f" + {extra} for normalize_window={normalize_window}" if worst.normalize and extra else "")
            + f" but the candles have only {n}; load more data, shorten periods or lower env.normalize_window"
        )
    return plan, start


def _fill_column(
    target: np.ndarray, name: str, data: np.ndarray, p: _Planned, start: int, normalize: str, window: int
) -> None:
    """Rows ``start:`` of one feature column into ``target``, normalised when its indicator asks for it."""
    if p.normalize:
        from tradecore.features import normalize as kernels

        if normalize == "rolling":
            kernels.rolling_zscore(data, p.warmup, window, start, target)
        else:
            kernels.expanding_zscore(data, p.warmup, window, start, target)
        return
    target[:] = data[start:]
    if not np.isfinite(target).all():
        raise TradecoreError(
            f"feature {name!r} overflows float32 (|value| > 3.4e38); "
            "normalise it (env.normalize) or rescale the indicator"
        )


@dataclass
class _Planned:
    label: str
    indicator: Indicator
    warmup: int
    columns: list[str]
    normalize: bool
    needs: int  # rows dropped before this indicator's first feature row


class _ColumnBlock:
    """Up to ``width`` finished columns in a contiguous buffer, copied into ``values`` in row chunks."""

    def __init__(self, values: np.ndarray, width: int = 8, rows_per_copy: int = 65_536) -> None:
        self.values = values
        self.rows_per_copy = rows_per_copy
        self.buffer = np.empty((min(width, max(values.shape[1], 1)), values.shape[0]), dtype=np.float32)
        self.first = 0  # matrix column of buffer row 0
        self.used = 0

    def next_column(self) -> np.ndarray:
        if self.used == self.buffer.shape[0]:
            self.flush()
        self.used += 1
        return self.buffer[self.used - 1]

    def flush(self) -> None:
        k, rows = self.used, self.values.shape[0]
        for a in range(0, rows, self.rows_per_copy):
            b = min(a + self.rows_per_copy, rows)
            self.values[a:b, self.first : self.first + k] = self.buffer[:k, a:b].T
        self.first += k
        self.used = 0


def _warmup(label: str, indicator: Indicator) -> int:
    warmup = indicator.warmup
    if isinstance(warmup, bool) or not isinstance(warmup, (int, np.integer)) or warmup < 0:
        raise TradecoreError(f"indicator {label!r}: warmup must be a non-negative integer, got {warmup!r}")
    return int(warmup)


def _check_columns(label: str, names: list[str]) -> None:
    if not names:
        raise TradecoreError(f"indicator {label!r} declares no output columns")
    if len(set(names)) != len(names):
        raise TradecoreError(f"indicator {label!r} declares a column twice: {names}")


def _check_outputs(label: str, names: list[str], outputs: Mapping[str, np.ndarray]) -> None:
    missing = [c for c in names if c not in outputs]
    if missing:
        raise TradecoreError(f"indicator {label!r} did not return its declared column(s) {', '.join(missing)}")


def _check_finite(name: str, data: np.ndarray, warmup: int, candles: Candles) -> None:
    tail = data[warmup:]
    if np.isfinite(tail).all():
        return
    row = warmup + int(np.flatnonzero(~np.isfinite(tail))[0])
    what = "NaN" if np.isnan(data[row]) else "infinite"
    when = np.datetime64(int(candles.time[row]), "ms") if len(candles.time) > row else "?"
    raise TradecoreError(
        f"feature {name!r} is {what} at row {row} ({when} UTC) after its warm-up of {warmup} rows; "
        "check the candles there (zero or missing prices/volume) or the indicator's params"
    )
