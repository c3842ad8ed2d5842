"""Across-seed statistics against hand-computed values: IQM, stratified bootstrap CIs, rates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tradecore.runs.aggregate import describe, iqm, mean, rate, stratified_bootstrap_ci


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([5.0, 1.0, 3.0], 3.0),  # int(0.25 * 3) = 0 cut: the plain mean
        ([4.0, 1.0, 3.0, 2.0], 2.5),  # one cut at each end: mean(2, 3)
        ([100.0, 0.0, 2.0, 10.0, 1.0], 13.0 / 3),  # mean(1, 2, 10): the outliers 0 and 100 drop
        (list(range(1, 9)), 4.5),  # mean(3, 4, 5, 6)
        ([[1.0, 8.0], [2.0, 7.0], [3.0, 6.0], [4.0, 5.0]], 4.5),  # (runs, tasks): over all runs of all tasks
    ],
)
def test_iqm_of_known_lists(scores, expected):
    assert iqm(scores) == pytest.approx(expected)


def test_mean_and_iqm_agree_with_numpy_and_a_trimmed_mean():
    values = np.random.default_rng(1).normal(size=40)
    assert mean(values) == pytest.approx(values.mean())
    assert iqm(values) == pytest.approx(np.sort(values)[10:30].mean())


def test_confidence_interval_contains_the_estimate_and_is_deterministic_given_a_seed():
    values = [0.12, -0.03, 0.4, 0.22, 0.08, 0.15, -0.1]
    for statistic, estimate in (("mean", mean(values)), ("iqm", iqm(values))):
        low, high = stratified_bootstrap_ci(values, statistic, seed=3)
        assert min(values) <= low < estimate < high <= max(values)
        assert stratified_bootstrap_ci(values, statistic, seed=3) == (low, high)
        assert stratified_bootstrap_ci(values, statistic, seed=4) != (low, high)


def test_a_constant_score_has_a_zero_width_interval():
    assert stratified_bootstrap_ci([0.5] * 6, "mean") == (0.5, 0.5)
    assert stratified_bootstrap_ci([0.5], "iqm") == (0.5, 0.5)


def test_bootstrap_is_stratified_by_task():
    # task A always scores 0, task B always 100: resampling runs within each task keeps half of every
    # resample from each, so every resampled mean is exactly 50 (pooled resampling would spread 0..100)
    scores = np.column_stack([np.zeros(4), np.full(4, 100.0)])
    assert stratified_bootstrap_ci(scores, "mean") == (50.0, 50.0)


def test_mean_interval_matches_the_percentiles_of_enumerated_resamples():
    # two runs: a resample mean is 0 (p = 1/4), 0.5 (1/2) or 1 (1/4); the 95% interval spans both ends
    assert stratified_bootstrap_ci([0.0, 1.0], "mean", reps=20_000) == (0.0, 1.0)
    # with a 40% interval the 30th and 70th percentiles both fall on 0.5
    assert stratified_bootstrap_ci([0.0, 1.0], "mean", confidence=0.4, reps=20_000) == (0.5, 0.5)


def test_describe_drops_non_finite_scores_and_reports_the_range():
    out = describe([0.1, float("nan"), 0.3, 0.2])
    assert out["n"] == 3 and out["mean"] == pytest.approx(0.2) and out["iqm"] == pytest.approx(0.2)
    assert out["min"] == 0.1 and out["max"] == 0.3
    assert out["mean_ci95"][0] <= out["mean"] <= out["mean_ci95"][1]
    empty = describe([float("nan")])
    assert empty["n"] == 0 and empty["mean"] is None and empty["iqm_ci95"] is None


def test_rate_is_the_share_with_an_interval_inside_zero_and_one():
    out = rate([True, False, True, True])
    assert out["n"] == 4 and out["rate"] == 0.75
    low, high = out["ci95"]
    assert 0.0 <= low <= 0.75 <= high <= 1.0
    assert rate([])["rate"] is None
    assert rate([True, True])["ci95"] == [1.0, 1.0]
    assert not math.isnan(rate([False])["rate"])
