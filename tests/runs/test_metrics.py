"""Metrics of hand-computable equity curves, and bootstrap intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tradecore.runs.metrics import block_bootstrap, compute_metrics, longest_underwater, trade_returns
from tradecore.timeframes import bars_per_year


def test_steady_growth_annualises_by_timeframe():
    bars = 24 * 365  # one year of hourly bars
    equity = 100.0 * 1.0001 ** np.arange(bars + 1)
    m = compute_metrics(equity, np.ones(bars), np.zeros(bars), "1h")
    assert m["years"] == pytest.approx(1.0)
    assert m["total_return"] == pytest.approx(1.0001**bars - 1)
    assert m["annualised_return"] == pytest.approx(m["total_return"])
    assert m["max_drawdown"] == 0.0 and m["max_drawdown_bars"] == 0
    assert m["sharpe"] is None or m["sharpe"] > 1e6  # no variance: undefined or huge, never negative
    assert m["exposure"] == 1.0 and m["trades"] == 1


def test_drawdown_trades_and_costs():
    equity = np.array([100, 110, 99, 88, 121, 121, 110, 130.0])
    exposure = np.array([1, 1, 1, 0, 0, -1, -1.0])
    fees = np.array([0.1, 0, 0, 0.1, 0, 0.2, 0.0])
    m = compute_metrics(equity, exposure, fees, "1d")
    assert m["max_drawdown"] == pytest.approx(0.2)  # 110 -> 88
    assert m["max_drawdown_bars"] == 2  # bars 2 and 3 below the 110 peak (and 6 below 121 is one bar)
    assert m["trades"] == 2
    trades = trade_returns(equity, exposure)
    np.testing.assert_allclose(trades, [88 / 100 - 1, 130 / 121 - 1])
    assert m["win_rate"] == pytest.approx(0.5)
    assert m["profit_factor"] == pytest.approx((130 / 121 - 1) / 0.12)
    assert m["fees_paid"] == pytest.approx(0.4)
    assert m["turnover"] == pytest.approx(1 + 1 + 1 + 0)  # 0->1, 1->0, 0->-1
    returns = equity[1:] / equity[:-1] - 1
    expected = returns.mean() / returns.std(ddof=1) * math.sqrt(bars_per_year("1d"))
    assert m["sharpe"] == pytest.approx(expected)


def test_longest_underwater():
    assert longest_underwater(np.array([1, 2, 1, 1, 1, 3, 2, 3.0])) == 3


def test_bootstrap_interval_brackets_the_estimate_and_is_seeded():
    rng = np.random.default_rng(3)
    returns = rng.normal(0.001, 0.01, 5000)
    a = block_bootstrap(returns, seed=1)
    b = block_bootstrap(returns, seed=1)
    assert a == b
    total = np.prod(1 + returns) - 1
    lo, hi = a["total_return"]
    assert lo < total < hi
    sharpe = returns.mean() / returns.std(ddof=1)
    lo, hi = a["sharpe_per_bar"]
    assert lo < sharpe < hi


def test_metrics_are_json_safe():
    import json

    equity = np.array([100.0, 100.0, 100.0])
    m = compute_metrics(equity, np.zeros(2), np.zeros(2), "1m")
    json.dumps(m, allow_nan=False)
    assert m["sharpe"] is None and m["trades"] == 0 and m["win_rate"] is None
