"""Numba kernels of the portfolio env: decode target weights, rebalance, reward and observe, for every env of a batch.

The portfolio counterpart of :mod:`tradecore.env.kernels`, with the same conventions (one call steps every
env; the single env is a batch of one; callers own every array) and the same reward code: the built-in
reward terms are computed by :func:`tradecore.env.kernels._rewards` itself, so the config vector keeps the
single env's slots for what the two share (equity, limits, window, the reward plan at ``C_TABLES``) and the
state keeps its episode and reward-term slots (``T``, ``STEPS``, ``OVER``, ``TERM_STATE``...). The bar's
arithmetic is :func:`tradecore.env.portfolio_execution.execute_rebalance`. Arrays (``A`` assets, ``n`` envs):

- ``prices``: float64 ``(A, rows, 4)``; ``traded``: bool ``(A, rows)`` (False: no candle, no fills): the whole
  market's rows (a split is ``C_FIRST_BAR`` + its bars: no copy per env)
- ``features``: float32 ``(A, rows * nf)``: each asset's feature rows, flattened
- ``actions``: float64 ``(dims, n)``: continuous values (``A + 1`` long-only: assets then cash; ``A``
  long/short), or bucket indices (``A``, integers)
- ``state``: float64 ``(n, TERM_STATE + 2 k + 2 A)``: account slots, episode slots, two per reward term, then
  per asset the units held and the costs paid on it (from ``config[P_Q0]``)
- ``out`` float64 ``(b, OUT_FIELDS + k, n)``, ``flags`` bool ``(b, FLAG_FIELDS, n)``, ``bars`` int64 ``(b, n)``,
  ``weights`` float64 ``(b, n, A)``: each asset's weight at the close after the step
- ``market``/``account``: float32 ``(b, n, A * window * nf)`` (a view of the ``(b, n, A, window, nf)`` block)
  and ``(b, n, A + 3)``; flat: both are the same ``(b, n, A * window * nf + A + 3)`` block. Every option
  passes the same array types, so each kernel compiles once.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from tradecore.env.execution import DRAWDOWN, EQUITY
from tradecore.env.kernels import (
    C_EQUITY,
    C_FEATURES,
    C_FIRST_BAR,
    C_LEVERAGE,
    C_LIMIT,
    C_MAX_DRAWDOWN,
    C_ROWS,
    C_TABLES,
    C_TERMS,
    C_WINDOW,
    EPISODE_OVER,
    LOG_FLOOR,
    O_DRAWDOWN,
    O_DRAWDOWN_PREV,
    O_EQUITY,
    O_EXPOSURE,
    O_FEE,
    O_LOG_RET,
    O_RET,
    O_REWARD,
    O_SLIPPAGE,
    O_TURNOVER,
    OUT_FIELDS,
    OVER,
    STEPS,
    SUM_OVERFLOW,
    T,
    _rewards,
)
from tradecore.env.portfolio_execution import execute_rebalance, portfolio_features

# config slots of the portfolio (the single env's head tables are unused: C_TABLE_WIDTH is 0)
P_EXTRA, P_Q0, P_MODE, P_ASSETS, P_BAND, P_MIN_ORDER, P_BUCKETS = range(14, 21)
# action modes
M_NORMALIZE, M_SOFTMAX, M_LONG_SHORT, M_DISCRETE = range(4)
# out rows after the shared outcome fields (O_RET .. O_EQUITY, then O_REWARD)
O_EQUITY_ABS, O_FEE_ABS, O_SLIPPAGE_ABS, O_CONCENTRATION, O_CASH_WEIGHT = range(10, 15)
assert OUT_FIELDS == 15
F_DONE, F_TERMINATED, F_TRUNCATED, F_TRADE = range(4)
FLAG_FIELDS = 4
#: the concentration penalty's kind (a reward term the single env does not have)
R_CONCENTRATION = 11
#: floats of the account part of an observation after the per-asset weights
ACCOUNT_EXTRA = 3


@njit(cache=True)
def step_portfolios(prices, traded, features, config, actions, state, out, flags, bars, weights, market, account, row):
    """Step every env one bar into row ``row`` of the blocks. Returns ``(ended, refused, bad_term)`` as
    :func:`tradecore.env.kernels.step_envs` does (``refused`` >= 0: the first asset whose bucket index is out
    of range, or ``EPISODE_OVER``)."""
    n = state.shape[0]
    assets = prices.shape[0]
    target = np.empty(assets)
    discrete = int(config[P_MODE]) == M_DISCRETE  # only bucket indices can be refused
    for i in range(n):
        if state[i, OVER]:
            return 0, EPISODE_OVER, -1
        if discrete:
            bad = _decode(config, actions, i, target)
            if bad >= 0:
                return 0, bad, -1
    extra = int(config[P_EXTRA])
    fees = config[extra : extra + assets]
    slips = config[extra + assets : extra + 2 * assets]
    q0 = int(config[P_Q0])
    results, marks, now, held = out[row], flags[row], bars[row], weights[row]
    first_bar = int(config[C_FIRST_BAR])
    bad_term = -1
    ended = 0
    for i in range(n):
        acct = state[i]
        _decode(config, actions, i, target)
        k = int(acct[T]) + 1
        bar = first_bar + k
        costs = execute_rebalance(
            acct, q0, prices, traded, bar, target, slips, fees, config[P_MIN_ORDER], config[P_BAND]
        )
        _record(config, acct, q0, prices, k, bar, costs, results, marks, held[i], i)
        now[i] = bar
        bad = _rewards(config, acct, results, marks, i)
        bad = _concentration(config, results, bad, i)
        if bad >= 0 and bad_term < 0:
            bad_term = bad
        ended += marks[F_DONE, i]
    for i in range(n):
        _observe_row(prices, features, config, state[i], market[row, i], account[row, i])
    return ended, -1, bad_term


@njit(cache=True)
def _decode(config, actions, i, target):
    """Env ``i``'s action -> target weights into ``target``; returns -1, or the first asset whose bucket index
    is out of range."""
    assets = target.shape[0]
    mode = int(config[P_MODE])
    cap = config[C_LEVERAGE]
    if mode == M_NORMALIZE:
        total = 0.0
        for a in range(assets + 1):
            u = (min(1.0, max(-1.0, float(actions[a, i]))) + 1.0) * 0.5
            total += u
            if a < assets:
                target[a] = u
        for a in range(assets):
            target[a] = target[a] / total if total > 0.0 else 0.0
        return -1
    if mode == M_SOFTMAX:
        top = float(actions[0, i])
        for a in range(1, assets + 1):
            top = max(top, float(actions[a, i]))
        total = 0.0
        for a in range(assets + 1):
            e = math.exp(float(actions[a, i]) - top)
            total += e
            if a < assets:
                target[a] = e
        for a in range(assets):
            target[a] = target[a] / total
        return -1
    if mode == M_LONG_SHORT:
        for a in range(assets):
            target[a] = min(1.0, max(-1.0, float(actions[a, i])))
    else:  # discrete: one bucket per asset
        extra = int(config[P_EXTRA]) + 2 * assets
        m = int(config[P_BUCKETS])
        for a in range(assets):
            v = actions[a, i]
            if not (v > -m - 1.0 and v < m):  # checked as a float: NaN and huge values are refused too
                return a
            idx = int(v)
            if idx < -m or idx >= m:
                return a
            if idx < 0:  # numpy's (and Python's) indexing rule
                idx += m
            target[a] = config[extra + idx]
    gross = 0.0
    for a in range(assets):
        gross += target[a] if target[a] >= 0.0 else -target[a]
    if gross > cap:  # scale down to the gross-exposure cap
        scale = cap / gross
        for a in range(assets):
            target[a] = target[a] * scale
    return -1


@njit(cache=True)
def _record(config, acct, q0, prices, k, bar, costs, out, flags, held, i):
    """Advance env ``i``'s episode to bar ``k`` (split-relative; ``bar`` in the market's rows) and write the
    step's outcome, info and weights."""
    equity_before, fee, slip, traded, gross, drawdown_before, orders = costs
    acct[T] = k
    steps = acct[STEPS] + 1.0
    acct[STEPS] = steps
    equity = acct[EQUITY]
    dd = acct[DRAWDOWN]
    terminated = equity <= 0.0 or dd >= config[C_MAX_DRAWDOWN]
    truncated = (not terminated) and (steps >= config[C_LIMIT] or k >= config[C_ROWS] - 1.0)
    ratio = equity / equity_before
    out[O_RET, i] = ratio - 1.0
    out[O_LOG_RET, i] = math.log(ratio) if ratio > 1e-12 else LOG_FLOOR
    out[O_FEE, i] = fee / equity_before
    out[O_SLIPPAGE, i] = slip / equity_before
    out[O_TURNOVER, i] = traded / equity_before
    out[O_EXPOSURE, i] = gross
    out[O_DRAWDOWN, i] = dd
    out[O_DRAWDOWN_PREV, i] = drawdown_before
    out[O_EQUITY, i] = equity / config[C_EQUITY]
    out[O_EQUITY_ABS, i] = equity
    out[O_FEE_ABS, i] = fee
    out[O_SLIPPAGE_ABS, i] = slip
    hhi = 0.0
    invested = 0.0
    for a in range(held.shape[0]):
        w = acct[q0 + a] * prices[a, bar, 3] / equity if equity > 0.0 else 0.0
        held[a] = w
        hhi += w * w
        invested += w
    out[O_CONCENTRATION, i] = hhi
    out[O_CASH_WEIGHT, i] = 1.0 - invested if equity > 0.0 else 0.0
    acct[OVER] = terminated or truncated
    flags[F_DONE, i] = terminated or truncated
    flags[F_TERMINATED, i] = terminated
    flags[F_TRUNCATED, i] = truncated
    flags[F_TRADE, i] = orders > 0


@njit(cache=True)
def _concentration(config, out, bad, i):
    """Add the concentration terms (-sum of squared weights at the close) the shared reward code left at 0."""
    plan = C_TABLES
    r = out[O_REWARD, i]
    changed = False
    for term in range(int(config[C_TERMS])):
        if int(config[plan + 3 * term]) == R_CONCENTRATION:
            v = config[plan + 3 * term + 1] * -out[O_CONCENTRATION, i]
            out[OUT_FIELDS + term, i] = v
            r += v
            changed = True
            if bad < 0 and v - v != 0.0:
                bad = term
    if changed:
        out[O_REWARD, i] = r
        if bad < 0 and r - r != 0.0:
            bad = SUM_OVERFLOW
    return bad


@njit(cache=True)
def observe_portfolios(prices, features, config, state, rows, market, account, row):
    """Observations of the envs ``rows`` at their current bar into row ``row`` of the blocks."""
    for j in range(rows.shape[0]):
        i = rows[j]
        _observe_row(prices, features, config, state[i], market[row, i], account[row, i])


@njit(cache=True)
def _observe_row(prices, features, config, acct, market, account):
    """One env's observation (1-d rows): per asset its feature window (oldest row first, one contiguous run of
    the asset's features), then the account features."""
    assets = prices.shape[0]
    window = int(config[C_WINDOW])
    nf = int(config[C_FEATURES])
    width = window * nf
    t = int(acct[T]) + int(config[C_FIRST_BAR])  # the market's row
    first = (t + 1 - window) * nf
    for a in range(assets):
        src = features[a, first : first + width]
        base = a * width
        for q in range(width):  # an explicit loop vectorises; a slice assignment checks for overlap
            market[base + q] = src[q]
    offset = account.shape[0] - assets - ACCOUNT_EXTRA
    portfolio_features(acct, int(config[P_Q0]), prices, t, config[C_EQUITY], account[offset:])
