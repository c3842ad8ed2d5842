"""Statistics across seeds, the way rliable recommends (Agarwal et al. 2021, "Deep RL at the Edge of the
Statistical Precipice"): the mean, the interquartile mean (IQM: the mean of the middle 50% of runs,
robust to one lucky or broken seed), and percentile confidence intervals from a stratified bootstrap
(runs are resampled with replacement within each task, so every resample keeps each task's run count).

Scores are a ``(runs, tasks)`` matrix; one manifest is one task, so ``tradecore run --seeds`` passes a
single column. Everything is deterministic given the bootstrap seed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

#: bootstrap resamples; rliable uses 50,000 for papers, 10,000 keeps the CI's endpoints steady to ~0.5%
BOOTSTRAP_REPS = 10_000
CONFIDENCE = 0.95
IQM_CUT = 0.25  # trimmed from each end: scipy.stats.trim_mean(scores, 0.25), as rliable computes the IQM


def as_matrix(scores: Any) -> np.ndarray:
    """A 1-d list of run scores becomes one task's column; a 2-d array is ``(runs, tasks)`` already."""
    matrix = np.asarray(scores, dtype=np.float64)
    if matrix.ndim == 1:
        matrix = matrix[:, None]
    if matrix.ndim != 2 or matrix.shape[0] == 0:
        raise ValueError(f"scores must be a non-empty (runs, tasks) matrix, got shape {matrix.shape}")
    return matrix


def mean(scores: Any) -> float:
    return float(as_matrix(scores).mean())


def iqm(scores: Any) -> float:
    """Interquartile mean over all runs of all tasks: drop ``int(0.25 n)`` scores at each end, average the rest."""
    flat = np.sort(as_matrix(scores).ravel())
    cut = int(IQM_CUT * len(flat))
    return float(flat[cut : len(flat) - cut].mean())


def _iqm_rows(samples: np.ndarray) -> np.ndarray:
    """IQM of each row of a ``(reps, n)`` array of resampled scores."""
    ordered = np.sort(samples, axis=1)
    cut = int(IQM_CUT * ordered.shape[1])
    return ordered[:, cut : ordered.shape[1] - cut].mean(axis=1)


def _mean_rows(samples: np.ndarray) -> np.ndarray:
    return samples.mean(axis=1)


#: statistic name -> (on one score matrix, on each row of flattened resamples)
STATISTICS: dict[str, tuple[Callable[[Any], float], Callable[[np.ndarray], np.ndarray]]] = {
    "mean": (mean, _mean_rows),
    "iqm": (iqm, _iqm_rows),
}


def stratified_bootstrap_ci(
    scores: Any,
    statistic: str = "iqm",
    *,
    reps: int = BOOTSTRAP_REPS,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile CI of ``statistic`` ("mean" or "iqm"): each resample draws every task's runs with replacement."""
    matrix = as_matrix(scores)
    runs, tasks = matrix.shape
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, runs, size=(reps, runs, tasks))  # resampled run index, per task
    samples = np.take_along_axis(np.broadcast_to(matrix, (reps, runs, tasks)), picks, axis=1)
    values = STATISTICS[statistic][1](samples.reshape(reps, runs * tasks))
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def describe(scores: Any, *, seed: int = 0, reps: int = BOOTSTRAP_REPS) -> dict[str, Any]:
    """n, mean and IQM with their 95% CIs, min and max of one metric's scores (non-finite scores dropped)."""
    values = np.asarray(scores, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return {"n": 0, "mean": None, "mean_ci95": None, "iqm": None, "iqm_ci95": None, "min": None, "max": None}
    return {
        "n": len(values),
        "mean": mean(values),
        "mean_ci95": list(stratified_bootstrap_ci(values, "mean", seed=seed, reps=reps)),
        "iqm": iqm(values),
        "iqm_ci95": list(stratified_bootstrap_ci(values, "iqm", seed=seed, reps=reps)),
        "min": float(values.min()),
        "max": float(values.max()),
    }


def rate(outcomes: list[bool], *, seed: int = 0, reps: int = BOOTSTRAP_REPS) -> dict[str, Any]:
    """The share of runs where something held (e.g. "beat buy_and_hold"), with its bootstrap 95% CI."""
    if not outcomes:
        return {"n": 0, "rate": None, "ci95": None}
    hits = np.asarray(outcomes, dtype=np.float64)
    return {
        "n": len(hits),
        "rate": float(hits.mean()),
        "ci95": list(stratified_bootstrap_ci(hits, "mean", seed=seed, reps=reps)),
    }
