"""The execution model: one account over one bar. The only implementation of fills, stops, costs and marking.

Bars are ``i`` with open ``O``, high ``H``, low ``L``, close ``C``. An action chosen at bar ``t`` is
executed by :func:`execute_bar` over bar ``t+1``:

1. The action sets a target exposure (fraction of equity, signed; size x leverage). When it differs
   from the target in force, an order fills at the bar's open ``O``: buys at ``O * (1 + slippage)``,
   sells at ``O * (1 - slippage)``, for ``target * equity_at_open / O`` units. Fees (``fee_rate`` per
   side) are charged on the filled notional. An unchanged target trades nothing (the position is held
   in units and its exposure drifts with price).
2. Stop-loss and take-profit levels sit at the chosen distance from the entry's fill price; the
   distances are chosen when a position opens from flat and stay locked while it is open (a resize or
   flip re-anchors the levels at the new fill). They are checked against the bar's low and high (a
   position opened at ``O`` is checked in the same bar). A long stops when ``L <= stop`` and exits at
   ``min(stop, O)`` (a gap through the stop fills at the open); it takes profit when ``H >= take`` at
   ``max(take, O)``; shorts mirror this. **When a bar touches both, the stop is assumed to have hit
   first (worst case).** Exits pay slippage and fees like any fill. After an exit the target in force
   is flat, so repeating the same action re-enters.
3. Equity is marked at ``C``; the drawdown is measured from the running equity peak.

Account state is one float64 vector with the slots named below (:data:`ACCOUNT_SLOTS` of them),
updated in place; :func:`open_account` fills a fresh one. The functions are numba-compiled: the
batched kernels (:mod:`tradecore.env.kernels`) call them for every env of a batch, and a caller that
steps one account bar by bar (a paper-trading engine on live candles) calls them directly::

    acct = np.empty(ACCOUNT_SLOTS); open_account(acct, 10_000.0)
    costs = execute_bar(acct, o, h, l, c, target, -1, -1, stop_dist, take_dist, slippage, fee_rate)
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

INF = np.inf
LOG_FLOOR = math.log(1e-12)

# account slots: units held, cash, equity and its peak at the last close, drawdown from that peak, target
# exposure in force, entry fill price, bars the position has been held, stop and take levels (+-inf: none),
# the locked stop and take distances (fractions of the entry; 0: none) and the action buckets they came from
QTY, CASH, EQUITY, PEAK, DRAWDOWN, TARGET, ENTRY, BARS, STOP, TAKE, STOP_DIST, TAKE_DIST, STOP_INDEX, TAKE_INDEX = (
    range(14)
)
ACCOUNT_SLOTS = 14
#: the account part of an observation, in order (see :func:`account_features`)
ACCOUNT_FEATURES = (
    "position",
    "entry_pnl",
    "log_equity",
    "drawdown",
    "log_bars_in_position",
    "stop_distance",
    "take_distance",
)


@njit(cache=True)
def open_account(acct, initial_equity):
    """A flat account holding ``initial_equity`` in cash."""
    acct[:] = 0.0
    acct[CASH] = initial_equity
    acct[EQUITY] = initial_equity
    acct[PEAK] = initial_equity
    acct[STOP] = -INF
    acct[TAKE] = INF


@njit(cache=True)
def execute_bar(acct, o, h, low, c, target, stop_index, take_index, stop_dist, take_dist, slippage, fee_rate):
    """Execute the order for ``target`` at the bar's open, then stop/take exits, then mark at the close.

    ``stop_index``/``take_index`` name the action buckets of ``stop_dist``/``take_dist`` (kept for the
    action masks; -1 when the action is continuous). Returns ``(equity_before, fee, slippage, traded,
    exposure, drawdown_before, opened, closed, stop_hit, take_hit)``: costs and traded notional in quote
    currency, ``exposure`` = |position notional| / equity at the open after the fill.
    """
    equity_before = acct[EQUITY]
    drawdown_before = acct[DRAWDOWN]
    qty = acct[QTY]
    cash = acct[CASH]
    fee = 0.0
    slip = 0.0
    traded = 0.0
    opened = False
    closed = False
    eq_open = cash + qty * o
    if target != acct[TARGET]:
        acct[TARGET] = target
        desired = order_units(acct, o, target)
        dq = desired - qty
        if dq != 0.0:
            px, traded, slip, fee = fill_order(o, dq, slippage, fee_rate)
            cash -= dq * px + fee
            if qty == 0.0:  # opening from flat: the stop/take distances are chosen now and locked
                opened = True
                acct[STOP_INDEX] = stop_index
                acct[TAKE_INDEX] = take_index
                acct[STOP_DIST] = stop_dist
                acct[TAKE_DIST] = take_dist
            elif desired == 0.0 or (desired > 0.0) != (qty > 0.0):
                closed = True
                opened = desired != 0.0
            if desired != 0.0:
                if opened:
                    acct[BARS] = 0.0
                sd = acct[STOP_DIST]
                td = acct[TAKE_DIST]
                if desired > 0.0:
                    acct[STOP] = px * (1.0 - sd) if sd else -INF
                    acct[TAKE] = px * (1.0 + td) if td else INF
                else:
                    acct[STOP] = px * (1.0 + sd) if sd else INF
                    acct[TAKE] = px * (1.0 - td) if td else -INF
                acct[ENTRY] = px
            qty = desired
    if eq_open > 0.0:
        exposure = (qty * o if qty >= 0.0 else -qty * o) / eq_open
    else:
        exposure = 0.0
    stop_hit = False
    take_hit = False
    if qty != 0.0:
        exit_px, stop_hit, take_hit = stop_or_take(qty, o, h, low, acct[STOP], acct[TAKE])
        if stop_hit or take_hit:
            px, notional, exit_slip, exit_fee = fill_order(exit_px, -qty, slippage, fee_rate)
            traded += notional
            slip += exit_slip
            fee += exit_fee
            cash += qty * px - exit_fee
            qty = 0.0
            closed = True
            acct[TARGET] = 0.0
    equity = cash + qty * c
    acct[QTY] = qty
    acct[CASH] = cash
    acct[EQUITY] = equity
    acct[BARS] = acct[BARS] + 1.0 if qty != 0.0 else 0.0
    if equity > acct[PEAK]:
        acct[PEAK] = equity
    acct[DRAWDOWN] = 1.0 - equity / acct[PEAK]
    return equity_before, fee, slip, traded, exposure, drawdown_before, opened, closed, stop_hit, take_hit


@njit(cache=True, inline="always")
def order_units(acct, o, target):
    """Units of the position ``target`` exposure asks for at open ``o``: ``target`` x the equity at the open / ``o``
    (0 when the account is ruined). What :func:`execute_bar` trades towards when the target changes."""
    eq_open = acct[CASH] + acct[QTY] * o
    return target * eq_open / o if eq_open > 0.0 else 0.0


@njit(cache=True, inline="always")
def fill_order(o, dq, slippage, fee_rate):
    """A fill of ``dq`` units (signed: buys > 0) at reference price ``o`` (the bar's open, or the stop/take level
    an exit fills at): ``(fill price, traded notional at o, slippage cost, fee)``. Buys fill at ``o * (1 +
    slippage)``, sells at ``o * (1 - slippage)``; the fee is ``fee_rate`` of the filled notional. The cash moves
    by ``-(dq * price + fee)``. Shared by every account model, and by the paper broker to itemise fills."""
    px = o * (1.0 + slippage) if dq > 0.0 else o * (1.0 - slippage)
    adq = dq if dq > 0.0 else -dq
    traded = adq * o
    return px, traded, traded * slippage, adq * px * fee_rate


@njit(cache=True, inline="always")
def stop_or_take(qty, o, h, low, stop, take):
    """(exit price, stop hit, take hit) of a position of ``qty`` units over a bar; the stop wins a tie."""
    if qty > 0.0:
        if low <= stop:
            return (stop if stop < o else o), True, False
        if h >= take:
            return (take if take > o else o), False, True
    else:
        if h >= stop:
            return (stop if stop > o else o), True, False
        if low <= take:
            return (take if take < o else o), False, True
    return 0.0, False, False


@njit(cache=True)
def account_features(acct, c, initial_equity, out):
    """The account part of an observation at close ``c``, in :data:`ACCOUNT_FEATURES` order, into ``out``."""
    qty = acct[QTY]
    equity = acct[EQUITY]
    if qty != 0.0:
        pos = qty * c / equity if equity > 0.0 else 0.0
        entry = acct[ENTRY]
        upnl = c / entry - 1.0 if qty > 0.0 else 1.0 - c / entry
        stop = acct[STOP]
        take = acct[TAKE]
        sdist = stop / c - 1.0 if -INF < stop < INF else 0.0
        tdist = take / c - 1.0 if -INF < take < INF else 0.0
    else:
        pos = 0.0
        upnl = 0.0
        sdist = 0.0
        tdist = 0.0
    ratio = equity / initial_equity
    out[0] = pos
    out[1] = upnl
    out[2] = math.log(ratio) if ratio > 1e-12 else LOG_FLOOR
    out[3] = acct[DRAWDOWN]
    out[4] = math.log1p(acct[BARS])
    out[5] = sdist
    out[6] = tdist
