"""Portfolio baselines and their fills against numbers worked out by hand on a 2-asset, 3-bar market."""

from __future__ import annotations

import numpy as np
import pytest

from tradecore.runs.portfolio_baselines import (
    baseline_schedules,
    buy_and_hold_schedule,
    equal_weight_schedule,
    execute_weights,
    inverse_volatility_schedule,
)

OPEN = np.array([[100.0, 50.0], [110.0, 50.0], [120.0, 40.0]])
CLOSE = np.array([[110.0, 50.0], [120.0, 40.0], [120.0, 40.0]])
#: assets x bars x (open, high, low, close)
PRICES = np.stack([OPEN.T, np.maximum(OPEN, CLOSE).T, np.minimum(OPEN, CLOSE).T, CLOSE.T], axis=2)


def fill(targets, **kw):
    kw = {"initial_equity": 1000.0, "fee_rate": 0.0, "slippage": 0.0, **kw}
    return execute_weights(PRICES, targets, np.arange(3), **kw)


def test_buy_and_hold_pays_the_fee_once_and_attributes_each_asset():
    out = fill(buy_and_hold_schedule(3, 2), fee_rate=0.01)
    # step 0: 5 units at 100 and 10 at 50, fees 5 + 5, cash -10; close 5*110 + 10*50 - 10
    np.testing.assert_allclose(out.costs.sum(axis=0), [5.0, 5.0])
    np.testing.assert_allclose(out.fees, [10.0, 0.0, 0.0])
    np.testing.assert_allclose(out.equity, [1000.0, 1040.0, 990.0, 990.0])
    np.testing.assert_allclose(out.pnl.sum(axis=0), [95.0, -105.0])  # 5 * (120 - 100) - 5; 10 * (40 - 50) - 5
    np.testing.assert_allclose(out.weights[1], [550 / 1040, 500 / 1040])
    np.testing.assert_allclose(out.pnl.sum(), out.equity[-1] - out.equity[0])


def test_slippage_fills_buys_above_and_sells_below_the_open():
    targets = np.array([[1.0, 0.0], [0.0, 0.0], [np.nan, np.nan]])
    out = fill(targets, slippage=0.01)
    # buy 10 units at 101 (cash -10), sell 10 at 110 * 0.99 = 108.9: cash 1089 - 1010 + 1000 = 1079
    np.testing.assert_allclose(out.slippage, [10.0, 11.0, 0.0])
    np.testing.assert_allclose(out.costs[:, 0], [10.0, 11.0, 0.0])
    np.testing.assert_allclose(out.equity, [1000.0, 1090.0, 1079.0, 1079.0])
    np.testing.assert_allclose(out.traded[:, 0], [1000.0, 1100.0, 0.0])


def test_no_trade_band_skips_small_drifts():
    # after step 0 (fees 10) the weights drift to 0.529 / 0.481 at step 1's open (equity 1040)
    wide = fill(equal_weight_schedule(3, 2), fee_rate=0.01, band=0.05)
    assert wide.traded[1].tolist() == [0.0, 0.0]
    narrow = fill(equal_weight_schedule(3, 2), fee_rate=0.01, band=0.01)
    # asset 0: 0.5 * 1040 / 110 - 5 units = -30 notional; asset 1: 520 / 50 - 10 = +20 notional
    np.testing.assert_allclose(narrow.traded[1], [30.0, 20.0])


def test_min_order_skips_small_orders_only():
    out = fill(equal_weight_schedule(3, 2), fee_rate=0.01, min_order=25.0)
    assert out.traded[1, 0] == pytest.approx(30.0)
    assert out.traded[1, 1] == 0.0


def test_a_full_exit_ignores_band_and_minimum_and_a_bar_without_trades_fills_nothing():
    targets = np.array([[0.02, 0.5], [0.0, 0.5], [0.0, 0.0]])
    out = fill(targets, band=0.05, min_order=100.0)
    # step 0: 20 of asset 0 is below the minimum, asset 1 buys 500; step 1: nothing to exit in asset 0
    np.testing.assert_allclose(out.traded[0], [0.0, 500.0])
    assert out.traded[2, 1] == pytest.approx(400.0)  # the exit of 10 units at 40, below no band or minimum
    closed = np.ones((2, 3), dtype=bool)
    closed[1, 2] = False  # asset 1 had no candle at bar 2: it cannot be sold there
    held = execute_weights(
        PRICES,
        targets,
        np.arange(3),
        initial_equity=1000.0,
        fee_rate=0.0,
        slippage=0.0,
        band=0.05,
        min_order=100.0,
        traded=closed,
    )
    assert held.traded[2, 1] == 0.0 and held.weights[2, 1] > 0


def test_attribution_sums_to_the_equity_change_with_costs():
    out = fill(equal_weight_schedule(3, 2), fee_rate=0.002, slippage=0.001)
    np.testing.assert_allclose(out.pnl.sum(), out.equity[-1] - out.equity[0])
    assert out.fees.sum() > 0 and out.slippage.sum() > 0
    np.testing.assert_allclose(out.costs.sum(), out.fees.sum() + out.slippage.sum())


def test_inverse_volatility_uses_only_past_closes_and_favours_the_calm_asset():
    rng = np.random.default_rng(0)
    returns = rng.standard_normal((300, 2)) * [0.01, 0.03]
    close = 100 * np.exp(np.cumsum(returns, axis=0))
    rows = np.arange(150, 299)
    weights = inverse_volatility_schedule(close, rows, window=96)
    assert (weights[:, 0] > weights[:, 1]).all()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    later = close.copy()
    later[200:] *= np.exp(rng.standard_normal((100, 2)))  # perturb every close after row 199
    again = inverse_volatility_schedule(later, rows, window=96)
    np.testing.assert_array_equal(again[rows < 200], weights[rows < 200])


def test_every_baseline_is_a_weight_schedule_within_the_simplex():
    close = np.cumprod(np.full((50, 3), 1.001), axis=0)
    schedules = baseline_schedules(close, np.arange(10, 49))
    assert list(schedules)[:4] == ["cash", "equal_weight", "buy_and_hold", "inverse_volatility"]
    for name, s in schedules.items():
        rows = s[np.isfinite(s).all(axis=1)]
        assert s.shape == (39, 3), name
        assert (rows >= 0).all() and (rows.sum(axis=1) <= 1 + 1e-12).all(), name
