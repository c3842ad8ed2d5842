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

    @property
    def n_features(self) -> int:
        return self.values.shape[1]

    def column(self, name: str) -> np.ndarray:
        """One feature as a (strided) view."""
        try:
            return self.values[:, self.names.index(name)]
        except ValueError:
            raise KeyError(f"no feature {name!r}; features: {', '.join(self.names)}") from None


@dataclass
class _Column:
    name: str
    label: str
    data: np.ndarray
    first: int  # first finite row
    normalize: bool


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
    if normalize not in NORMALIZE_MODES:
        raise TradecoreError(f"normalize must be one of {', '.join(NORMALIZE_MODES)}, got {normalize!r}")
    if normalize != "none" and (not isinstance(normalize_window, int) or normalize_window < 2):
        raise TradecoreError(f"normalize_window must be an integer >= 2, got {normalize_window!r}")
    labels = [label for label, _ in indicators]
    if len(set(labels)) != len(labels):
        dupes = sorted({label for label in labels if labels.count(label) > 1})
        raise TradecoreError(f"indicator labels must be unique; repeated: {', '.join(dupes)}")
    n = len(candles)
    columns: list[_Column] = []
    warmups: dict[str, int] = {}
    for label, indicator in indicators:
        warmup = _warmup(label, indicator)
        if warmup >= n:
            raise TradecoreError(
                f"indicator {label!r} needs {warmup} warm-up rows but the candles have only {n}; "
                "load more data or shorten the indicator's periods"
            )
        warmups[label] = warmup
        names = list(indicator.columns())
        outputs = indicator.compute(candles)
        _check_outputs(label, names, outputs)
        do_normalize = normalize != "none" and getattr(indicator, "normalize", True)
        for column, name in zip(names, feature_names(label, names)):
            data = np.ascontiguousarray(outputs[column], dtype=np.float64)
            if data.shape != (n,):
                raise TradecoreError(
                    f"indicator {label!r}: column {column!r} has shape {data.shape}, "
                    f"expected ({n},) (one value per candle)"
                )
            _check_finite(name, data, warmup, candles)
            columns.append(_Column(name, label, data, warmup, do_normalize))

    extra = normalize_window - 1 if normalize != "none" else 0
    start = max([c.first + (extra if c.normalize else 0) for c in columns], default=0)
    if start >= n:
        worst = max(columns, key=lambda c: c.first + (extra if c.normalize else 0))
        raise TradecoreError(
            f"no rows left: {worst.label!r} needs {worst.first} warm-up rows"
            + (f" + {extra} for normalize_window={normalize_window}" if worst.normalize and extra else "")
            + f" but the candles have only {n}; load more data, shorten periods or lower env.normalize_window"
        )

    values = np.empty((n - start, len(columns)), dtype=np.float32)
    normalized = {}
    scratch = (np.empty(n), np.empty(n)) if normalize == "rolling" else None
    for j, col in enumerate(columns):
        target = values[:, j]
        if col.normalize:
            from tradecore.features import normalize as kernels

            if normalize == "rolling":
                kernels.rolling_zscore(col.data, col.first, normalize_window, start, target, *scratch)
            else:
                kernels.expanding_zscore(col.data, col.first, normalize_window, start, target)
        else:
            target[:] = col.data[start:]
            if not np.isfinite(target).all():
                raise TradecoreError(
                    f"feature {col.name!r} overflows float32 (|value| > 3.4e38); "
                    "normalise it (env.normalize) or rescale the indicator"
                )
        normalized[col.name] = col.normalize
    return FeatureSet(
        values=values,
        names=[c.name for c in columns],
        start=start,
        warmup_by_indicator=warmups,
        normalize=normalize,
        normalize_window=normalize_window,
        normalized=normalized,
    )


def _warmup(label: str, indicator: Indicator) -> int:
    warmup = indicator.warmup
    if isinstance(warmup, bool) or not isinstance(warmup, (int, np.integer)) or warmup < 0:
        raise TradecoreError(f"indicator {label!r}: warmup must be a non-negative integer, got {warmup!r}")
    return int(warmup)


def _check_outputs(label: str, names: list[str], outputs: Mapping[str, np.ndarray]) -> None:
    if not names:
        raise TradecoreError(f"indicator {label!r} declares no output columns")
    if len(set(names)) != len(names):
        raise TradecoreError(f"indicator {label!r} declares a column twice: {names}")
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
