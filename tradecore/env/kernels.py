"""Numba kernels of the batched env: one loop over sub-envs doing exactly the single env's arithmetic.

Scalar code per sub-env, in the same operation order as :meth:`TradingEnv._advance`, so results match
the single env bit for bit (no fastmath). State arrays are updated in place; per-step outputs are
written into caller-owned arrays, so a batched step allocates only the observation it returns.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

INF = np.inf
LOG_FLOOR = math.log(1e-12)

# rows of the float64 state matrix, the int64 state matrix, the float64 outputs and the bool flags
S_QTY, S_CASH, S_EQUITY, S_PEAK, S_DD, S_TARGET, S_ENTRY, S_BARS, S_STOP, S_TAKE, S_SD, S_TD = range(12)
N_STATE = 12
I_T, I_STEPS, I_SL, I_TP = range(4)
N_ISTATE = 4
(
    O_RET,
    O_LOG_RET,
    O_FEE,
    O_SLIP,
    O_TURNOVER,
    O_EXPOSURE,
    O_DD_PREV,
    O_DD,
    O_EQUITY,
    O_FEE_ABS,
    O_SLIP_ABS,
    O_POSITION,
    O_PRICE,
) = range(13)
N_OUT = 13
F_DONE, F_TERMINATED, F_TRUNCATED, F_OPENED, F_CLOSED, F_STOP, F_TAKE, F_TRADE = range(8)
N_FLAGS = 8


@njit(cache=True)
def step_batch(o_arr, h_arr, l_arr, c_arr, target_new, si, ti, sd_new, td_new, params, state, istate, out, flags):
    """``params``: slippage, fee, initial equity, max drawdown, step limit, rows in the split.
    ``state`` / ``istate`` / ``out`` / ``flags``: rows named by the ``S_*`` / ``I_*`` / ``O_*`` / ``F_*`` constants."""
    s, f, e0, max_dd, limit, rows = params[0], params[1], params[2], params[3], params[4], params[5]
    qty_a, cash_a, equity_a, peak_a = state[S_QTY], state[S_CASH], state[S_EQUITY], state[S_PEAK]
    dd_a, target_a, entry_a, bars_a = state[S_DD], state[S_TARGET], state[S_ENTRY], state[S_BARS]
    stop_a, take_a, sd_a, td_a = state[S_STOP], state[S_TAKE], state[S_SD], state[S_TD]
    t, steps, sl_idx, tp_idx = istate[I_T], istate[I_STEPS], istate[I_SL], istate[I_TP]
    ret, log_ret, fee_o, slip_o, turnover_o = out[O_RET], out[O_LOG_RET], out[O_FEE], out[O_SLIP], out[O_TURNOVER]
    exposure_o, dd_prev_o, dd_o, eq_ratio = out[O_EXPOSURE], out[O_DD_PREV], out[O_DD], out[O_EQUITY]
    fee_abs, slip_abs, position, price = out[O_FEE_ABS], out[O_SLIP_ABS], out[O_POSITION], out[O_PRICE]
    done, terminated, truncated, opened_o = flags[F_DONE], flags[F_TERMINATED], flags[F_TRUNCATED], flags[F_OPENED]
    closed_o, stop_o, take_o, trade_o = flags[F_CLOSED], flags[F_STOP], flags[F_TAKE], flags[F_TRADE]
    for i in range(t.shape[0]):
        k = t[i] + 1
        o = o_arr[k]
        qty = qty_a[i]
        cash = cash_a[i]
        e_prev = equity_a[i]
        fee = 0.0
        slip = 0.0
        traded = 0.0
        opened = False
        closed = False
        eq_open = cash + qty * o
        tgt = target_new[i]
        if tgt != target_a[i]:
            target_a[i] = tgt
            desired = tgt * eq_open / o if eq_open > 0.0 else 0.0
            dq = desired - qty
            if dq != 0.0:
                px = o * (1.0 + s) if dq > 0.0 else o * (1.0 - s)
                adq = dq if dq > 0.0 else -dq
                traded = adq * o
                slip = traded * s
                fee = adq * px * f
                cash -= dq * px + fee
                if qty == 0.0:
                    opened = True
                    sl_idx[i] = si[i]
                    tp_idx[i] = ti[i]
                    sd_a[i] = sd_new[i]
                    td_a[i] = td_new[i]
                elif desired == 0.0 or (desired > 0.0) != (qty > 0.0):
                    closed = True
                    opened = desired != 0.0
                if desired != 0.0:
                    if opened:
                        bars_a[i] = 0.0
                    sd = sd_a[i]
                    td = td_a[i]
                    if desired > 0.0:
                        stop_a[i] = px * (1.0 - sd) if sd else -INF
                        take_a[i] = px * (1.0 + td) if td else INF
                    else:
                        stop_a[i] = px * (1.0 + sd) if sd else INF
                        take_a[i] = px * (1.0 - td) if td else -INF
                    entry_a[i] = px
                qty = desired
        if eq_open > 0.0:
            exposure = (qty * o if qty >= 0.0 else -qty * o) / eq_open
        else:
            exposure = 0.0
        stop_hit = False
        take_hit = False
        if qty != 0.0:
            h = h_arr[k]
            low = l_arr[k]
            stop = stop_a[i]
            take = take_a[i]
            exit_px = 0.0
            if qty > 0.0:
                if low <= stop:
                    stop_hit = True
                    exit_px = stop if stop < o else o
                elif h >= take:
                    take_hit = True
                    exit_px = take if take > o else o
            else:
                if h >= stop:
                    stop_hit = True
                    exit_px = stop if stop > o else o
                elif low <= take:
                    take_hit = True
                    exit_px = take if take < o else o
            if stop_hit or take_hit:
                aq = qty if qty > 0.0 else -qty
                px = exit_px * (1.0 - s) if qty > 0.0 else exit_px * (1.0 + s)
                notional = aq * exit_px
                traded += notional
                slip += notional * s
                exit_fee = aq * px * f
                fee += exit_fee
                cash += qty * px - exit_fee
                qty = 0.0
                closed = True
                target_a[i] = 0.0
        c = c_arr[k]
        equity = cash + qty * c
        qty_a[i] = qty
        cash_a[i] = cash
        equity_a[i] = equity
        bars_a[i] = bars_a[i] + 1.0 if qty != 0.0 else 0.0
        if equity > peak_a[i]:
            peak_a[i] = equity
        dd = 1.0 - equity / peak_a[i]
        t[i] = k
        n_steps = steps[i] + 1
        steps[i] = n_steps
        term = equity <= 0.0 or dd >= max_dd
        trunc = (not term) and (n_steps >= limit or k >= rows - 1)
        ratio = equity / e_prev
        ret[i] = ratio - 1.0
        log_ret[i] = math.log(ratio) if ratio > 1e-12 else LOG_FLOOR
        fee_o[i] = fee / e_prev
        slip_o[i] = slip / e_prev
        turnover_o[i] = traded / e_prev
        exposure_o[i] = exposure
        dd_prev_o[i] = dd_a[i]
        dd_o[i] = dd
        eq_ratio[i] = equity / e0
        done[i] = term or trunc
        dd_a[i] = dd
        terminated[i] = term
        truncated[i] = trunc
        opened_o[i] = opened
        closed_o[i] = closed
        stop_o[i] = stop_hit
        take_o[i] = take_hit
        trade_o[i] = traded > 0.0
        fee_abs[i] = fee
        slip_abs[i] = slip
        position[i] = qty * c / equity if equity > 0.0 else 0.0
        price[i] = c


@njit(cache=True)
def account_batch(c_arr, rows, state, istate, e0, out):
    """The 7 account fields of sub-envs ``rows``, as TradingEnv._observation computes them, into float32 ``out``."""
    qty_a, equity_a, entry_a, dd_a = state[S_QTY], state[S_EQUITY], state[S_ENTRY], state[S_DD]
    bars_a, stop_a, take_a, t = state[S_BARS], state[S_STOP], state[S_TAKE], istate[I_T]
    for j in range(rows.shape[0]):
        i = rows[j]
        c = c_arr[t[i]]
        qty = qty_a[i]
        equity = equity_a[i]
        if qty != 0.0:
            pos = qty * c / equity if equity > 0.0 else 0.0
            entry = entry_a[i]
            upnl = c / entry - 1.0 if qty > 0.0 else 1.0 - c / entry
            stop = stop_a[i]
            take = take_a[i]
            sdist = stop / c - 1.0 if -INF < stop < INF else 0.0
            tdist = take / c - 1.0 if -INF < take < INF else 0.0
        else:
            pos = 0.0
            upnl = 0.0
            sdist = 0.0
            tdist = 0.0
        ratio = equity / e0
        out[j, 0] = pos
        out[j, 1] = upnl
        out[j, 2] = math.log(ratio) if ratio > 1e-12 else LOG_FLOOR
        out[j, 3] = dd_a[i]
        out[j, 4] = math.log1p(bars_a[i])
        out[j, 5] = sdist
        out[j, 6] = tdist


@njit(cache=True)
def decode_discrete(d_idx, s_idx, sl_idx, tp_idx, dir_tab, size_tab, sl_tab, tp_tab, target, sd, td):
    """Head indices -> target exposure and stop/take distances (numpy's indexing rules: negative indices wrap).
    Returns -1, or the number (0..3) of the first head with an out-of-range index."""
    tabs = (dir_tab, size_tab, sl_tab, tp_tab)
    for i in range(target.shape[0]):
        idx = (d_idx[i], s_idx[i], sl_idx[i], tp_idx[i])
        for h in range(4):
            m = tabs[h].shape[0]
            if idx[h] < -m or idx[h] >= m:
                return h
        d = d_idx[i] + dir_tab.shape[0] if d_idx[i] < 0 else d_idx[i]
        s = s_idx[i] + size_tab.shape[0] if s_idx[i] < 0 else s_idx[i]
        a = sl_idx[i] + sl_tab.shape[0] if sl_idx[i] < 0 else sl_idx[i]
        b = tp_idx[i] + tp_tab.shape[0] if tp_idx[i] < 0 else tp_idx[i]
        target[i] = dir_tab[d] * size_tab[s]
        sd[i] = sl_tab[a]
        td[i] = tp_tab[b]
    return -1


# built-in reward terms the fused kernel computes (codes chosen by tradecore.env.vector)
R_PNL_LOG, R_PNL_SIMPLE, R_FEE_SLIP, R_FEE, R_DD_INCREASE, R_DD_LEVEL, R_EXPOSURE, R_TURNOVER = range(8)
R_DSR, R_TERMINAL_LOG, R_TERMINAL_SIMPLE = range(8, 11)


@njit(cache=True)
def rewards_batch(kinds, weights, etas, term_state, out, flags, shares, reward):
    """The built-in reward terms of every sub-env with the scalar formulas of :mod:`tradecore.env.rewards`
    (the single env's arithmetic), weighted into ``shares`` (terms x envs) and summed in term order into
    ``reward``. ``term_state[k, 0 / 1]``: the differential Sharpe moments of term ``k``.
    Returns -1, or the index of the first term with a non-finite weighted value."""
    ret, log_ret, fee, slip = out[O_RET], out[O_LOG_RET], out[O_FEE], out[O_SLIP]
    turnover, exposure, dd_prev, dd, eq = out[O_TURNOVER], out[O_EXPOSURE], out[O_DD_PREV], out[O_DD], out[O_EQUITY]
    done = flags[F_DONE]
    bad = -1
    for i in range(reward.shape[0]):
        r = 0.0
        for k in range(kinds.shape[0]):
            kind = kinds[k]
            if kind == R_PNL_LOG:
                v = log_ret[i]
            elif kind == R_PNL_SIMPLE:
                v = ret[i]
            elif kind == R_FEE_SLIP:
                v = -(fee[i] + slip[i])
            elif kind == R_FEE:
                v = -fee[i]
            elif kind == R_DD_INCREASE:
                rise = dd[i] - dd_prev[i]
                v = -rise if rise > 0.0 else 0.0
            elif kind == R_DD_LEVEL:
                v = -dd[i]
            elif kind == R_EXPOSURE:
                v = -exposure[i]
            elif kind == R_TURNOVER:
                v = -turnover[i]
            elif kind == R_DSR:
                x, a, b = ret[i], term_state[k, 0, i], term_state[k, 1, i]
                da = x - a
                db = x * x - b
                var = b - a * a
                v = (b * da - 0.5 * a * db) / (var * math.sqrt(var)) if var > 1e-18 else 0.0
                term_state[k, 0, i] = a + etas[k] * da
                term_state[k, 1, i] = b + etas[k] * db
            elif kind == R_TERMINAL_LOG:
                e = eq[i]
                v = math.log(e if e > 1e-12 else 1e-12) if done[i] else 0.0
            else:
                v = eq[i] - 1.0 if done[i] else 0.0
            v = weights[k] * v
            shares[k, i] = v
            r += v
            if bad < 0 and v - v != 0.0:
                bad = k
        if bad < 0 and r - r != 0.0:
            bad = kinds.shape[0]  # finite terms whose sum overflows
        reward[i] = r
    return bad


@njit(cache=True)
def observe_batch(feats_flat, nf, window, c_arr, rows, state, istate, e0, market, account):
    """Observations of sub-envs ``rows``: the feature window (flattened, into ``market[j]``) and the account
    fields (into ``account[j]``), as TradingEnv builds them."""
    t_a = istate[I_T]
    width = window * nf
    for j in range(rows.shape[0]):
        first = (t_a[rows[j]] + 1 - window) * nf
        # an explicit loop over two 1-d slices vectorises; a slice assignment checks for overlap and copies twice
        src = feats_flat[first : first + width]
        dst = market[j]
        for q in range(width):
            dst[q] = src[q]
    account_batch(c_arr, rows, state, istate, e0, account)
