"""Numba kernels of the env engine: decode actions, execute a bar, reward and observe, for every env of a batch.

One call steps every env (:func:`step_envs`); the single env is a batch of one. The arithmetic of a bar
is :func:`tradecore.env.execution.execute_bar`; this module adds what an *episode* adds to it: the bar
index, the step limit and the end of the split, termination, the outcome as fractions of equity, the
built-in reward terms and the observation. The callers own every array, the observations included.
Arrays (``n`` envs, ``k`` reward terms):

- ``prices``: float64 ``(rows, 4)``: open, high, low, close of the split's bars
- ``features``: float32 ``(rows * nf,)``: the split's feature rows, flattened
- ``config``: float64 vector, the ``C_*`` slots (filled by :func:`tradecore.env.engine.pack_config`)
- ``actions``: ``(heads, n)``: one row per enabled head (HEAD_ORDER) of discrete indices (int64), or per
  continuous dimension of values (float64)
- ``state``: float64 ``(n, TERM_STATE + 2 k)``: the account (:mod:`~tradecore.env.execution` slots), then the
  episode's bar ``T`` and step count ``STEPS`` (exact integers) and ``OVER`` (1.0 once the episode has ended),
  then two slots of state per reward term
- ``out``: float64 ``(b, OUT_FIELDS + k, n)`` and ``flags``: bool ``(b, FLAG_FIELDS, n)``: blocks of ``b`` steps'
  results; a step writes row ``row`` of them, one row per ``O_*`` / ``F_*`` field, then the weighted share of each
  reward term; ``bars``: int64 ``(b, n)``: each env's bar after the step (the market's row)
- ``market`` and ``account``: float32 observation blocks, ``(b, n, window, nf)`` and ``(b, n, 7)``; for flat
  observations both are the same ``(b, n, window * nf + 7)`` block (the account features follow the window)

A step writes every value of its row of the blocks, so the blocks may come from ``np.empty``; a caller hands out
each row once (:class:`tradecore.env.engine.Engine`), so results returned to a user are never overwritten.
"""

from __future__ import annotations

import math

from numba import njit

from tradecore.env.execution import (
    ACCOUNT_FEATURES,
    ACCOUNT_SLOTS,
    DRAWDOWN,
    EQUITY,
    QTY,
    account_features,
    execute_bar,
)

LOG_FLOOR = math.log(1e-12)

# state slots after the account's: the episode's current bar (split-relative), steps taken, and whether the
# episode has ended (its next step is refused: the data may have run out)
T, STEPS, OVER = ACCOUNT_SLOTS, ACCOUNT_SLOTS + 1, ACCOUNT_SLOTS + 2
TERM_STATE = ACCOUNT_SLOTS + 3  # two slots per reward term from here
# config slots: costs, episode bounds, action decoding; the head tables and the reward plan follow
C_SLIPPAGE, C_FEE, C_EQUITY, C_MAX_DRAWDOWN, C_LIMIT, C_ROWS, C_WINDOW, C_FEATURES = range(8)
C_CONTINUOUS, C_ALLOW_SHORT, C_LEVERAGE, C_TABLE_WIDTH, C_TERMS, C_FIRST_BAR = range(8, 14)
C_HEAD_COLUMN = 14  # 4 slots: each head's row in ``actions`` (HEAD_ORDER), -1 when the head is off
C_TABLE_LEN = 18  # 4 slots: each head's table length
C_TABLES = 22  # 4 x table width: the head tables (index -> value), then 3 slots per term: kind, weight, eta
# out rows: the reward-term outcome fields (tradecore.env.rewards.OUTCOME_FIELDS order, ``done`` is a flag),
# then the reward and what the step's info reports (one block, in info order); the terms' weighted shares follow
O_RET, O_LOG_RET, O_FEE, O_SLIPPAGE, O_TURNOVER, O_EXPOSURE, O_DRAWDOWN, O_DRAWDOWN_PREV, O_EQUITY = range(9)
O_REWARD, O_EQUITY_ABS, O_POSITION, O_PRICE, O_FEE_ABS, O_SLIPPAGE_ABS = range(9, 15)
OUT_FIELDS = 15
# flags: the episode's end, then what the step's info reports (one block, in info order)
F_DONE, F_TERMINATED, F_TRUNCATED, F_TRADE, F_OPENED, F_CLOSED, F_STOP_HIT, F_TAKE_HIT = range(8)
FLAG_FIELDS = 8
#: ``refused`` when an env's episode has ended and it was not restarted
EPISODE_OVER = 4
ACCOUNT_WIDTH = len(ACCOUNT_FEATURES)  # floats of the account part of an observation

# reward-term kinds computed here (chosen by tradecore.env.engine); OTHER: a term the caller computes
R_OTHER, R_PNL_LOG, R_PNL_SIMPLE, R_FEE_SLIP, R_FEE, R_DD_INCREASE, R_DD_LEVEL, R_EXPOSURE = range(-1, 7)
R_TURNOVER, R_DSR, R_TERMINAL_LOG, R_TERMINAL_SIMPLE = range(7, 11)
#: ``bad_term`` when every term is finite but their sum is not
SUM_OVERFLOW = 1 << 30


@njit(cache=True)
def step_envs(prices, features, config, actions, state, out, flags, bars, market, account, row):
    """Step every env one bar; the results and the new observations go into row ``row`` of the caller's blocks
    (arrays passed in cost less than arrays returned from numba). Returns ``(ended, refused, bad_term)``:
    ``ended`` envs whose episode ended; ``refused`` >= 0 means nothing was stepped: the first head (HEAD_ORDER)
    with an out-of-range index, or :data:`EPISODE_OVER`; ``bad_term`` >= 0 is the first reward term with a
    non-finite weighted value (or :data:`SUM_OVERFLOW`); both -1 when all is well."""
    n = state.shape[0]
    for i in range(n):  # every env and action is checked before any env steps
        if state[i, OVER]:
            return 0, EPISODE_OVER, -1
        bad_head = _decode(config, actions, i)[0]
        if bad_head >= 0:
            return 0, bad_head, -1
    results, marks, now = out[row], flags[row], bars[row]
    first_bar = int(config[C_FIRST_BAR])
    bad_term = -1
    ended = 0
    for i in range(n):
        acct = state[i]
        k = int(acct[T]) + 1
        _, target, stop_index, take_index, stop_dist, take_dist = _decode(config, actions, i)
        costs = execute_bar(
            acct,
            prices[k, 0],
            prices[k, 1],
            prices[k, 2],
            prices[k, 3],
            target,
            stop_index,
            take_index,
            stop_dist,
            take_dist,
            config[C_SLIPPAGE],
            config[C_FEE],
        )
        _record(config, acct, k, prices[k, 3], costs, results, marks, i)
        now[i] = first_bar + k
        bad = _rewards(config, acct, results, marks, i)
        if bad >= 0 and bad_term < 0:
            bad_term = bad
        ended += marks[F_DONE, i]
    for i in range(n):
        _observe_row(prices, features, config, state[i], market[row, i], account[row, i])
    return ended, -1, bad_term


@njit(cache=True)
def decode_action(config, actions, i):
    """Env ``i``'s action in ``actions`` (the :func:`step_envs` layout) as the step executes it: ``(bad_head, target
    exposure, stop bucket, take bucket, stop distance, take distance)``; ``bad_head`` is -1 or the first head
    (HEAD_ORDER) whose index is out of range. For a caller that executes one account itself (paper trading)."""
    return _decode(config, actions, i)


@njit(cache=True, inline="always")
def _decode(config, actions, i):
    """Env ``i``'s action -> ``(bad_head, target exposure, stop bucket, take bucket, stop distance, take
    distance)``; ``bad_head`` is -1 or the first head (HEAD_ORDER) whose index is out of range."""
    width = int(config[C_TABLE_WIDTH])
    if config[C_CONTINUOUS]:
        a0 = min(1.0, max(-1.0, float(actions[0, i])))
        lev = config[C_LEVERAGE]
        target = a0 * lev if config[C_ALLOW_SHORT] else (a0 + 1.0) * 0.5 * lev
        stop_dist = 0.0
        take_dist = 0.0
        col = 1
        for h in range(2, 4):
            first = C_TABLES + h * width
            m = int(config[C_TABLE_LEN + h])
            if m > 1:
                u = min(1.0, max(-1.0, float(actions[col, i])))
                col += 1
                lo = config[first]
                hi = config[first]
                for q in range(1, m):
                    lo = min(lo, config[first + q])
                    hi = max(hi, config[first + q])
                dist = lo + (u + 1.0) * 0.5 * (hi - lo)
            else:
                dist = config[first] if m else 0.0
            if h == 2:
                stop_dist = dist
            else:
                take_dist = dist
        return -1, target, -1.0, -1.0, stop_dist, take_dist
    value = 1.0
    stop_index = 0.0
    take_index = 0.0
    stop_dist = 0.0
    take_dist = 0.0
    for h in range(4):
        col = int(config[C_HEAD_COLUMN + h])
        m = int(config[C_TABLE_LEN + h])
        idx = 0
        if col >= 0:
            idx = int(actions[col, i])
            if idx < -m or idx >= m:
                return h, 0.0, 0.0, 0.0, 0.0, 0.0
            if idx < 0:  # numpy's (and Python's) indexing rule
                idx += m
        v = config[C_TABLES + h * width + idx] if m else 0.0
        if h < 2:
            value = v if h == 0 else value * v
        elif h == 2:
            stop_index = float(idx)
            stop_dist = v
        else:
            take_index = float(idx)
            take_dist = v
    return -1, value, stop_index, take_index, stop_dist, take_dist


@njit(cache=True, inline="always")
def _record(config, row, k, close, costs, out, flags, i):
    """Advance env ``i``'s episode to bar ``k`` and write the step's outcome and info into ``out``/``flags``."""
    equity_before, fee, slip, traded, exposure, drawdown_before, opened, closed, stop_hit, take_hit = costs
    row[T] = k
    steps = row[STEPS] + 1.0
    row[STEPS] = steps
    equity = row[EQUITY]
    dd = row[DRAWDOWN]
    terminated = equity <= 0.0 or dd >= config[C_MAX_DRAWDOWN]
    truncated = (not terminated) and (steps >= config[C_LIMIT] or k >= config[C_ROWS] - 1.0)
    ratio = equity / equity_before
    out[O_RET, i] = ratio - 1.0
    out[O_LOG_RET, i] = math.log(ratio) if ratio > 1e-12 else LOG_FLOOR
    out[O_FEE, i] = fee / equity_before
    out[O_SLIPPAGE, i] = slip / equity_before
    out[O_TURNOVER, i] = traded / equity_before
    out[O_EXPOSURE, i] = exposure
    out[O_DRAWDOWN, i] = dd
    out[O_DRAWDOWN_PREV, i] = drawdown_before
    out[O_EQUITY, i] = equity / config[C_EQUITY]
    out[O_EQUITY_ABS, i] = equity
    out[O_POSITION, i] = row[QTY] * close / equity if equity > 0.0 else 0.0
    out[O_PRICE, i] = close
    out[O_FEE_ABS, i] = fee
    out[O_SLIPPAGE_ABS, i] = slip
    row[OVER] = terminated or truncated
    flags[F_DONE, i] = terminated or truncated
    flags[F_TERMINATED, i] = terminated
    flags[F_TRUNCATED, i] = truncated
    flags[F_TRADE, i] = traded > 0.0
    flags[F_OPENED, i] = opened
    flags[F_CLOSED, i] = closed
    flags[F_STOP_HIT, i] = stop_hit
    flags[F_TAKE_HIT, i] = take_hit


@njit(cache=True, inline="always")
def _rewards(config, row, out, flags, i):
    """The built-in terms' weighted shares of env ``i`` (the formulas of :mod:`tradecore.env.rewards`, in the
    same operation order) into ``out``, summed in term order into ``out[O_REWARD]``; other terms get 0 and
    are added by the caller. Returns -1, the first term with a non-finite share, or SUM_OVERFLOW."""
    plan = C_TABLES + 4 * int(config[C_TABLE_WIDTH])
    bad = -1
    r = 0.0
    for term in range(int(config[C_TERMS])):
        kind = int(config[plan + 3 * term])
        if kind == R_PNL_LOG:
            v = out[O_LOG_RET, i]
        elif kind == R_PNL_SIMPLE:
            v = out[O_RET, i]
        elif kind == R_FEE_SLIP:
            v = -(out[O_FEE, i] + out[O_SLIPPAGE, i])
        elif kind == R_FEE:
            v = -out[O_FEE, i]
        elif kind == R_DD_INCREASE:
            rise = out[O_DRAWDOWN, i] - out[O_DRAWDOWN_PREV, i]
            v = -rise if rise > 0.0 else 0.0
        elif kind == R_DD_LEVEL:
            v = -out[O_DRAWDOWN, i]
        elif kind == R_EXPOSURE:
            v = -out[O_EXPOSURE, i]
        elif kind == R_TURNOVER:
            v = -out[O_TURNOVER, i]
        elif kind == R_DSR:
            s = TERM_STATE + 2 * term
            x, a, b = out[O_RET, i], row[s], row[s + 1]
            da = x - a
            db = x * x - b
            var = b - a * a
            v = (b * da - 0.5 * a * db) / (var * math.sqrt(var)) if var > 1e-18 else 0.0
            eta = config[plan + 3 * term + 2]
            row[s] = a + eta * da
            row[s + 1] = b + eta * db
        elif kind == R_TERMINAL_LOG:
            e = out[O_EQUITY, i]
            v = math.log(e if e > 1e-12 else 1e-12) if flags[F_DONE, i] else 0.0
        elif kind == R_TERMINAL_SIMPLE:
            v = out[O_EQUITY, i] - 1.0 if flags[F_DONE, i] else 0.0
        else:  # R_OTHER: the caller's
            out[OUT_FIELDS + term, i] = 0.0
            continue
        v = config[plan + 3 * term + 1] * v
        out[OUT_FIELDS + term, i] = v
        r += v
        if bad < 0 and v - v != 0.0:
            bad = term
    if bad < 0 and r - r != 0.0:
        bad = SUM_OVERFLOW
    out[O_REWARD, i] = r
    return bad


@njit(cache=True)
def observe(prices, features, config, state, rows, market, account, row):
    """Observations of the envs ``rows`` (int64 indices) at their current bar, into those envs' places in row
    ``row`` of the ``market``/``account`` blocks: the feature window (oldest row first) then the account features."""
    for j in range(rows.shape[0]):
        i = rows[j]
        _observe_row(prices, features, config, state[i], market[row, i], account[row, i])


@njit(cache=True, inline="always")
def _observe_row(prices, features, config, row, market, account):
    """One env's observation: ``market`` ``(window, nf)`` or, flat, the ``(window * nf + 7,)`` row that is also
    ``account`` (the account features then go after the window)."""
    window = int(config[C_WINDOW])
    nf = int(config[C_FEATURES])
    width = window * nf
    t = int(row[T])
    first = (t + 1 - window) * nf
    # an explicit loop over two 1-d arrays vectorises; a slice assignment checks for overlap and copies twice
    src = features[first : first + width]
    dst = market.reshape(market.size)
    for q in range(width):
        dst[q] = src[q]
    offset = account.shape[0] - ACCOUNT_WIDTH
    account_features(row, prices[t, 3], config[C_EQUITY], account[offset:])
