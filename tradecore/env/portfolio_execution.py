"""The portfolio execution model: one account, many assets, rebalanced to target weights over one bar.

The single-asset rules of :mod:`tradecore.env.execution`, generalised; every fill goes through the same
:func:`~tradecore.env.execution.fill_order` arithmetic. An action chosen at bar ``t`` is executed over bar
``t+1`` by :func:`execute_rebalance`:

1. Equity at the open is ``cash + sum(qty[a] * O[a])``. Each asset ``a``'s target weight ``w[a]`` (signed
   fraction of that equity) asks for ``w[a] * equity_at_open / O[a]`` units; the difference fills at the open
   with the asset's slippage (buys at ``O * (1 + s)``, sells at ``O * (1 - s)``) and fee (per side, on the
   filled notional). All orders are sized off the same equity at the open, as a broker's rebalance is.
2. An asset is not traded when its current weight at the open is within ``band`` of its target (the
   no-trade band), when the order's notional is below ``min_order`` (quote currency), or when the asset has
   no candle at that bar (nobody traded: its price is the carried close). A full exit (target 0) ignores the
   band and the minimum, so no dust position is left behind.
3. Equity is marked at the closes ``C``; the drawdown is measured from the running equity peak.

Unlike the single-asset model there are no stop-loss/take-profit exits (a weight target is re-stated every
bar), and the rebalance runs every bar: a held target whose weight drifts outside the band is traded back to
it (set a band to hold positions as they drift). Fees are not reserved: a fully invested book ends with
slightly negative cash, as the single-asset account does at exposure 1.

The account is a float64 vector: the single-asset slots ``CASH``, ``EQUITY``, ``PEAK`` and ``DRAWDOWN`` at
their usual places, and per asset, from offset ``q0``, the units held (``qty``) then the cumulative fees and
slippage paid on it (quote currency, for attribution).
"""

from __future__ import annotations

import math

from numba import njit

from tradecore.env.execution import CASH, DRAWDOWN, EQUITY, PEAK, fill_order

LOG_FLOOR = math.log(1e-12)


@njit(cache=True)
def open_portfolio(acct, q0, assets, initial_equity):
    """A flat account holding ``initial_equity`` in cash (its per-asset slots from ``q0``)."""
    acct[CASH] = initial_equity
    acct[EQUITY] = initial_equity
    acct[PEAK] = initial_equity
    acct[DRAWDOWN] = 0.0
    for a in range(2 * assets):
        acct[q0 + a] = 0.0


@njit(cache=True)
def execute_rebalance(acct, q0, prices, traded_bars, k, target, slippage, fee_rate, min_order, band):
    """Rebalance to the weights ``target`` (one per asset) at bar ``k``'s opens, then mark at its closes.

    ``prices`` is float64 ``(assets, rows, 4)`` (open, high, low, close), ``traded_bars`` bool ``(assets,
    rows)``; ``slippage`` and ``fee_rate`` are per asset. Returns ``(equity_before, fee, slippage, traded,
    gross, drawdown_before, orders)``: costs and traded notional in quote currency, ``gross`` = sum of
    |position notional| / equity at the open after the fills, ``orders`` the assets traded."""
    assets = prices.shape[0]
    equity_before = acct[EQUITY]
    drawdown_before = acct[DRAWDOWN]
    cash = acct[CASH]
    eq_open = cash
    for a in range(assets):
        eq_open += acct[q0 + a] * prices[a, k, 0]
    fee = 0.0
    slip = 0.0
    traded = 0.0
    gross = 0.0
    orders = 0
    for a in range(assets):
        o = prices[a, k, 0]
        qty = acct[q0 + a]
        if eq_open > 0.0 and traded_bars[a, k]:
            w = target[a]
            desired = w * eq_open / o
            dq = desired - qty
            if dq != 0.0:
                now = qty * o / eq_open
                drift = w - now
                exit_all = w == 0.0
                notional = (dq if dq > 0.0 else -dq) * o
                if exit_all or ((drift > band or drift < -band) and notional >= min_order):
                    px, notional, s, f = fill_order(o, dq, slippage[a], fee_rate[a])
                    cash -= dq * px + f
                    fee += f
                    slip += s
                    traded += notional
                    acct[q0 + assets + a] += f + s
                    qty = desired
                    acct[q0 + a] = qty
                    orders += 1
        gross += qty * o if qty >= 0.0 else -qty * o
    gross = gross / eq_open if eq_open > 0.0 else 0.0
    equity = cash
    for a in range(assets):
        equity += acct[q0 + a] * prices[a, k, 3]
    acct[CASH] = cash
    acct[EQUITY] = equity
    if equity > acct[PEAK]:
        acct[PEAK] = equity
    acct[DRAWDOWN] = 1.0 - equity / acct[PEAK]
    return equity_before, fee, slip, traded, gross, drawdown_before, orders


@njit(cache=True)
def portfolio_features(acct, q0, prices, k, initial_equity, out):
    """The account part of an observation at bar ``k``'s closes, into ``out``: each asset's weight, the cash
    weight, log equity (relative to the start) and the drawdown."""
    assets = prices.shape[0]
    equity = acct[EQUITY]
    for a in range(assets):
        out[a] = acct[q0 + a] * prices[a, k, 3] / equity if equity > 0.0 else 0.0
    out[assets] = acct[CASH] / equity if equity > 0.0 else 0.0
    ratio = equity / initial_equity
    out[assets + 1] = math.log(ratio) if ratio > 1e-12 else LOG_FLOOR
    out[assets + 2] = acct[DRAWDOWN]


#: the account part of an observation after the per-asset weights (``weight:<asset>`` come first)
ACCOUNT_TAIL = ("cash_weight", "log_equity", "drawdown")
