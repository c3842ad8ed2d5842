"""One-pass numba kernels for the standard indicators, following TA-Lib's C code step for step.

Every kernel writes into a caller-allocated float64 ``out`` (numpy allocates it, which is cheaper
than numba's allocator at millions of rows) and fills the warm-up rows with NaN. Seeds, warm-up
lengths and zero guards are TA-Lib's (``TA_COMPATIBILITY_DEFAULT``, unstable period 0), so outputs
agree with the ``talib`` package to rounding. Rolling variances do not use TA-Lib's running
``E[x^2] - E[x]^2`` (it cancels badly at price scale): see :func:`rolling_mean_std`.

``cache=True`` stores the compiled code next to this file, so only the first process pays the JIT.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NAN = np.nan
#: TA-Lib's TA_IS_ZERO threshold: the bundled TA-Lib C 0.8 only treats exact 0 as zero (RSI stays
#: defined down to denormal gains + losses); the 1e-8 of C 0.4.0 zeroed RSI on low-priced assets
EPSILON = 0.0
#: variance below this fraction of the squared scale of the values is rounding noise of a flat window
FLAT = 1e-26


@njit(cache=True)
def _fill_nan(out, stop):
    for i in range(min(stop, out.shape[0])):
        out[i] = NAN


@njit(cache=True)
def sma(x, period, out):
    """TA-Lib SMA: running sum, first value at ``period - 1``."""
    n = x.shape[0]
    _fill_nan(out, period - 1)
    if n < period:
        return
    total = 0.0
    for i in range(period - 1):
        total += x[i]
    for i in range(period - 1, n):
        total += x[i]
        out[i] = total / period
        total -= x[i - period + 1]


@njit(cache=True)
def ema_from(x, period, k, first, out):
    """EMA seeded with the mean of ``x[first - period + 1 .. first]`` at row ``first`` (TA-Lib's INT_EMA)."""
    n = x.shape[0]
    _fill_nan(out, first)
    if n <= first:
        return
    seed = 0.0
    for i in range(first - period + 1, first + 1):
        seed += x[i]
    prev = seed / period
    out[first] = prev
    for i in range(first + 1, n):
        prev = (x[i] - prev) * k + prev
        out[i] = prev


@njit(cache=True)
def ema(x, period, out):
    """TA-Lib EMA: k = 2/(period+1), seeded with the SMA of the first ``period`` values."""
    ema_from(x, period, 2.0 / (period + 1), period - 1, out)


@njit(cache=True)
def wma(x, period, out):
    """TA-Lib WMA (weights 1..period) with its running-sum update."""
    n = x.shape[0]
    _fill_nan(out, period - 1)
    if n < period:
        return
    divider = period * (period + 1) / 2.0
    period_sub = 0.0
    period_sum = 0.0
    for i in range(period - 1):
        period_sub += x[i]
        period_sum += x[i] * (i + 1)
    trailing_value = 0.0
    trailing = 0
    for i in range(period - 1, n):
        v = x[i]
        period_sub += v
        period_sub -= trailing_value
        period_sum += v * period
        trailing_value = x[trailing]
        trailing += 1
        out[i] = period_sum / divider
        period_sum -= period_sub


@njit(cache=True)
def rsi(x, period, out):
    """TA-Lib RSI: gains/losses seeded with simple means of the first ``period`` changes, Wilder update,
    0 (not 50 or NaN) when gains plus losses are zero."""
    n = x.shape[0]
    _fill_nan(out, period)
    if n <= period:
        return
    gain = 0.0
    loss = 0.0
    for i in range(1, period + 1):
        d = x[i] - x[i - 1]
        if d < 0:
            loss -= d
        else:
            gain += d
    gain /= period
    loss /= period
    total = gain + loss
    out[period] = 100.0 * (gain / total) if (total > EPSILON or total < -EPSILON) else 0.0
    keep = (period - 1) / period
    add = 1.0 / period
    for i in range(period + 1, n):
        d = x[i] - x[i - 1]
        g = d if d > 0 else 0.0
        lo = -d if d < 0 else 0.0
        gain = gain * keep + g * add
        loss = loss * keep + lo * add
        total = gain + loss
        out[i] = 100.0 * (gain / total) if (total > EPSILON or total < -EPSILON) else 0.0


@njit(cache=True)
def true_range(high, low, close, out):
    """TA-Lib TRANGE: max(H-L, |H-C[-1]|, |L-C[-1]|) from row 1; row 0 is NaN."""
    n = high.shape[0]
    _fill_nan(out, 1)
    for i in range(1, n):
        prev_close = close[i - 1]
        tr = high[i] - low[i]
        a = abs(high[i] - prev_close)
        if a > tr:
            tr = a
        a = abs(low[i] - prev_close)
        if a > tr:
            tr = a
        out[i] = tr


@njit(cache=True)
def atr(high, low, close, period, out):
    """TA-Lib ATR: seed = mean(TR[1..period]) at row ``period``, then Wilder smoothing."""
    n = high.shape[0]
    if period == 1:
        true_range(high, low, close, out)
        return
    _fill_nan(out, period)
    if n <= period:
        return
    total = 0.0
    prev_close = close[0]
    for i in range(1, period + 1):
        tr = max(high[i] - low[i], abs(high[i] - prev_close), abs(low[i] - prev_close))
        total += tr
        prev_close = close[i]
    prev = total / period
    out[period] = prev
    keep = (period - 1) / period
    add = 1.0 / period
    for i in range(period + 1, n):
        tr = max(high[i] - low[i], abs(high[i] - prev_close), abs(low[i] - prev_close))
        prev_close = close[i]
        prev = prev * keep + tr * add
        out[i] = prev


@njit(cache=True)
def macd(x, fast, slow, signal, line_out, signal_out, hist_out):
    """TA-Lib MACD: fast and slow EMAs both seeded on the window ending at ``slow - 1``; the signal EMA
    is seeded with the mean of the first ``signal`` MACD values; all three start at ``slow + signal - 2``."""
    n = x.shape[0]
    first = slow + signal - 2
    _fill_nan(line_out, first)
    _fill_nan(signal_out, first)
    _fill_nan(hist_out, first)
    if n <= first:
        return
    kf = 2.0 / (fast + 1)
    ks = 2.0 / (slow + 1)
    kg = 2.0 / (signal + 1)
    fast_ema = 0.0
    for i in range(slow - fast, slow):
        fast_ema += x[i]
    fast_ema /= fast
    slow_ema = 0.0
    for i in range(slow):
        slow_ema += x[i]
    slow_ema /= slow
    # MACD values from row slow-1; the first ``signal`` of them seed the signal line
    seed = fast_ema - slow_ema
    for i in range(slow, first + 1):
        fast_ema = (x[i] - fast_ema) * kf + fast_ema
        slow_ema = (x[i] - slow_ema) * ks + slow_ema
        seed += fast_ema - slow_ema
    line = fast_ema - slow_ema
    sig = seed / signal
    line_out[first] = line
    signal_out[first] = sig
    hist_out[first] = line - sig
    for i in range(first + 1, n):
        fast_ema = (x[i] - fast_ema) * kf + fast_ema
        slow_ema = (x[i] - slow_ema) * ks + slow_ema
        line = fast_ema - slow_ema
        sig = (line - sig) * kg + sig
        line_out[i] = line
        signal_out[i] = sig
        hist_out[i] = line - sig


@njit(cache=True)
def _window_sums(x, stop, period):
    """Exact (two-pass) sums for the window ending at ``stop``: anchor = window mean, deviations from it."""
    total = 0.0
    for j in range(stop - period + 1, stop + 1):
        total += x[j]
    anchor = total / period
    s1 = 0.0
    s2 = 0.0
    for j in range(stop - period + 1, stop + 1):
        d = x[j] - anchor
        s1 += d
        s2 += d * d
    return anchor, s1, s2


@njit(cache=True)
def rolling_stats(x, start, period, ddof, mean_out, std_out, z_out, z_from):
    """Rolling mean and std over ``period`` rows of ``x[start:]`` (first value at ``start + period - 1``).

    Running sums of deviations from an anchor (the mean of an earlier window, summed exactly) are
    re-summed exactly as soon as the rounding they carry could exceed ~1e-11 of the window's variance
    (a quiet window after a volatile one, or prices trending away from the anchor), so the std is
    accurate at any price scale and does not drift over millions of rows. A flat window gives std 0.

    With ``z_from < 0`` it writes ``mean_out`` and ``std_out`` (which may be the same array: the std
    wins). With ``z_from >= 0`` it writes only the z-score ``(x - mean) / std`` (0 when flat) of rows
    ``t >= z_from`` into ``z_out[t - z_from]``, in one pass.
    """
    n = x.shape[0]
    first = start + period - 1
    want_z = z_from >= 0
    if not want_z:
        _fill_nan(mean_out, first)
        _fill_nan(std_out, first)
    if n <= first:
        return
    inv_period = 1.0 / period
    inv_dof = 1.0 / (period - ddof)
    anchor, s1, s2 = _window_sums(x, first, period)
    moved = 0.0  # squares added/removed since the last exact sum: bounds the rounding carried in s2
    for i in range(first, n):
        if i > first:
            d_in = x[i] - anchor
            d_out = x[i - period] - anchor
            s1 += d_in - d_out
            sq_in = d_in * d_in
            sq_out = d_out * d_out
            s2 += sq_in - sq_out
            moved += sq_in + sq_out
        m = s1 * inv_period
        var = s2 - s1 * m
        if var < 1e-5 * (s2 + moved) and moved > 0.0:
            anchor, s1, s2 = _window_sums(x, i, period)
            moved = 0.0
            m = s1 * inv_period
            var = s2 - s1 * m
        var *= inv_dof
        # a flat window leaves only rounding noise (relative 1e-13 of the values' scale): call it 0
        sd = np.sqrt(var) if var > FLAT * (s2 * inv_period + anchor * anchor) else 0.0
        if want_z:
            if i >= z_from:
                z_out[i - z_from] = (x[i] - anchor - m) / sd if sd > 0.0 else 0.0
        else:
            mean_out[i] = anchor + m
            std_out[i] = sd


@njit(cache=True)
def rolling_mean_std(x, start, period, ddof, mean_out, std_out):
    """Rolling mean and std (see :func:`rolling_stats`)."""
    rolling_stats(x, start, period, ddof, mean_out, std_out, mean_out, -1)


@njit(cache=True)
def bbands(x, period, nbdev, upper, middle, lower):
    """TA-Lib BBANDS with an SMA middle band and the population std (ddof 0)."""
    rolling_mean_std(x, 0, period, 0, middle, lower)  # lower holds the std for now
    _fill_nan(upper, period - 1)
    n = x.shape[0]
    for i in range(period - 1, n):
        width = nbdev * lower[i]
        upper[i] = middle[i] + width
        lower[i] = middle[i] - width


@njit(cache=True)
def _diff_in_place(x):
    for i in range(x.shape[0] - 1, 0, -1):
        x[i] = x[i] - x[i - 1]
    if x.shape[0] > 0:
        x[0] = NAN


def log_return_volatility(close, period, ddof, out, scratch):
    """Rolling std of 1-bar log returns ``log(c[i]) - log(c[i-1])`` over ``period`` returns; first value at
    row ``period``. numpy's SIMD log is several times faster than a scalar log in the loop."""
    np.log(close, out=scratch)
    _diff_in_place(scratch)
    rolling_mean_std(scratch, 1, period, ddof, out, out)


@njit(cache=True)
def zscore(x, period, out, scratch):
    """(x - rolling mean) / rolling population std; 0 where the window is flat."""
    rolling_mean_std(x, 0, period, 0, scratch, out)
    n = x.shape[0]
    for i in range(period - 1, n):
        sd = out[i]
        out[i] = (x[i] - scratch[i]) / sd if sd > 0.0 else 0.0


@njit(cache=True)
def rolling_vwap(high, low, close, volume, period, out):
    """Rolling VWAP of the typical price (H+L+C)/3; the last typical price where the window has no volume."""
    n = close.shape[0]
    _fill_nan(out, period - 1)
    if n < period:
        return
    every = max(period, 64)
    pv = 0.0
    vol = 0.0
    for j in range(period - 1):
        pv += (high[j] + low[j] + close[j]) / 3.0 * volume[j]
        vol += volume[j]
    since = 0
    for i in range(period - 1, n):
        tp = (high[i] + low[i] + close[i]) / 3.0
        if since >= every:  # re-sum so add/subtract rounding cannot drift over millions of rows
            pv = 0.0
            vol = 0.0
            for j in range(i - period + 1, i):
                pv += (high[j] + low[j] + close[j]) / 3.0 * volume[j]
                vol += volume[j]
            since = 0
        pv += tp * volume[i]
        vol += volume[i]
        out[i] = pv / vol if vol > 0.0 else tp
        j = i - period + 1
        pv -= (high[j] + low[j] + close[j]) / 3.0 * volume[j]
        vol -= volume[j]
        since += 1


@njit(cache=True)
def obv(x, volume, out):
    """TA-Lib OBV: starts at the first bar's volume."""
    n = x.shape[0]
    if n == 0:
        return
    total = volume[0]
    prev = x[0]
    for i in range(n):
        v = x[i]
        if v > prev:
            total += volume[i]
        elif v < prev:
            total -= volume[i]
        out[i] = total
        prev = v


@njit(cache=True)
def stoch(high, low, close, fastk_period, slowk_period, slowd_period, k_out, d_out, fastk):
    """TA-Lib STOCH with SMA smoothing (matype 0); both outputs start at the sum of the lookbacks."""
    n = close.shape[0]
    first_fast = fastk_period - 1
    first = first_fast + slowk_period - 1 + slowd_period - 1
    _fill_nan(fastk, first_fast)
    _fill_nan(k_out, first)
    _fill_nan(d_out, first)
    if n <= first:
        return
    lowest_idx = -1
    highest_idx = -1
    lowest = 0.0
    highest = 0.0
    diff = 0.0
    for today in range(first_fast, n):
        trailing = today - first_fast
        v = low[today]
        if lowest_idx < trailing:
            lowest_idx = trailing
            lowest = low[trailing]
            for i in range(trailing + 1, today + 1):
                if low[i] < lowest:
                    lowest_idx = i
                    lowest = low[i]
            diff = (highest - lowest) / 100.0
        elif v <= lowest:
            lowest_idx = today
            lowest = v
            diff = (highest - lowest) / 100.0
        v = high[today]
        if highest_idx < trailing:
            highest_idx = trailing
            highest = high[trailing]
            for i in range(trailing + 1, today + 1):
                if high[i] > highest:
                    highest_idx = i
                    highest = high[i]
            diff = (highest - lowest) / 100.0
        elif v >= highest:
            highest_idx = today
            highest = v
            diff = (highest - lowest) / 100.0
        fastk[today] = (close[today] - lowest) / diff if diff != 0.0 else 0.0
    sma(fastk[first_fast:], slowk_period, k_out[first_fast:])
    sma(k_out[first_fast + slowk_period - 1 :], slowd_period, d_out[first_fast + slowk_period - 1 :])
    _fill_nan(k_out, first)


@njit(cache=True)
def _dm_tr(high, low, close, i, prev_high, prev_low, prev_close):
    h = high[i]
    lo = low[i]
    diff_p = h - prev_high
    diff_m = prev_low - lo
    plus = 0.0
    minus = 0.0
    if diff_m > 0 and diff_p < diff_m:
        minus = diff_m
    elif diff_p > 0 and diff_p > diff_m:
        plus = diff_p
    tr = h - lo
    a = abs(h - prev_close)
    if a > tr:
        tr = a
    a = abs(lo - prev_close)
    if a > tr:
        tr = a
    return plus, minus, tr


@njit(cache=True)
def adx(high, low, close, period, out):
    """TA-Lib ADX: DM/TR sums over ``period - 1`` bars, ``period`` DX values averaged into the seed at
    row ``2*period - 1``, then Wilder smoothing of DX."""
    n = close.shape[0]
    first = 2 * period - 1
    _fill_nan(out, first)
    if n <= first:
        return
    plus_dm = 0.0
    minus_dm = 0.0
    tr_sum = 0.0
    today = 0
    for _ in range(period - 1):
        today += 1
        p, m, tr = _dm_tr(high, low, close, today, high[today - 1], low[today - 1], close[today - 1])
        plus_dm += p
        minus_dm += m
        tr_sum += tr
    sum_dx = 0.0
    for _ in range(period):
        today += 1
        p, m, tr = _dm_tr(high, low, close, today, high[today - 1], low[today - 1], close[today - 1])
        minus_dm = minus_dm - minus_dm / period + m
        plus_dm = plus_dm - plus_dm / period + p
        tr_sum = tr_sum - tr_sum / period + tr
        if not (-EPSILON < tr_sum < EPSILON):
            minus_di = 100.0 * (minus_dm / tr_sum)
            plus_di = 100.0 * (plus_dm / tr_sum)
            s = minus_di + plus_di
            if not (-EPSILON < s < EPSILON):
                sum_dx += 100.0 * (abs(minus_di - plus_di) / s)
    prev_adx = sum_dx / period
    out[today] = prev_adx
    while today < n - 1:
        today += 1
        p, m, tr = _dm_tr(high, low, close, today, high[today - 1], low[today - 1], close[today - 1])
        minus_dm = minus_dm - minus_dm / period + m
        plus_dm = plus_dm - plus_dm / period + p
        tr_sum = tr_sum - tr_sum / period + tr
        if not (-EPSILON < tr_sum < EPSILON):
            minus_di = 100.0 * (minus_dm / tr_sum)
            plus_di = 100.0 * (plus_dm / tr_sum)
            s = minus_di + plus_di
            if not (-EPSILON < s < EPSILON):
                dx = 100.0 * (abs(minus_di - plus_di) / s)
                prev_adx = (prev_adx * (period - 1) + dx) / period
        out[today] = prev_adx


@njit(cache=True)
def rate_of_change(x, period, log, out):
    """TA-Lib ROCP ``(x - x[-p]) / x[-p]`` (0 where the old price is 0), or ``log(x / x[-p])``."""
    n = x.shape[0]
    _fill_nan(out, period)
    for i in range(period, n):
        old = x[i - period]
        if log:
            out[i] = np.log(x[i] / old)
        else:
            out[i] = (x[i] - old) / old if old != 0.0 else 0.0


@njit(cache=True)
def cyclic_time(time_ms, hour_sin, hour_cos, dow_sin, dow_cos, want_hour, want_dow):
    """Time of day (24 h cycle) and weekday (7-day cycle, Monday = 0) of UTC epoch-ms times as sin/cos.

    Whole-minute times (every candle timeframe) read a 1440-entry table instead of calling sin/cos.
    """
    day_ms = 86_400_000
    minute_ms = 60_000
    two_pi = 2.0 * np.pi
    minute_sin = np.empty(1440)
    minute_cos = np.empty(1440)
    for m in range(1440):
        minute_sin[m] = np.sin(two_pi * m / 1440)
        minute_cos[m] = np.cos(two_pi * m / 1440)
    week_sin = np.empty(7)
    week_cos = np.empty(7)
    for d in range(7):
        week_sin[d] = np.sin(two_pi * d / 7)
        week_cos[d] = np.cos(two_pi * d / 7)
    for i in range(time_ms.shape[0]):
        t = time_ms[i]
        day = t // day_ms  # floor division: correct before 1970 too
        of_day = t - day * day_ms
        if want_hour:
            if of_day % minute_ms == 0:
                m = of_day // minute_ms
                hour_sin[i] = minute_sin[m]
                hour_cos[i] = minute_cos[m]
            else:
                angle = two_pi * of_day / day_ms
                hour_sin[i] = np.sin(angle)
                hour_cos[i] = np.cos(angle)
        if want_dow:
            d = (day + 3) % 7  # 1970-01-01 was a Thursday
            dow_sin[i] = week_sin[d]
            dow_cos[i] = week_cos[d]
