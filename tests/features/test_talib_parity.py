"""The standard indicators agree with the ``talib`` package: same NaN rows, values within 1e-9 after warm-up."""

from __future__ import annotations

import numpy as np
import pytest

from tests.features.conftest import make_candles
from tradecore.features import params as P
from tradecore.features import standard as S
from tradecore.interfaces import Candles

talib = pytest.importorskip("talib")

RTOL = 1e-9


def assert_matches(name: str, ours: np.ndarray, ref: np.ndarray, warmup: int) -> None:
    """Identical NaN layout (TA-Lib's lookback = our warm-up), then |diff| <= 1e-9 x the series' scale."""
    ref = np.asarray(ref, dtype=np.float64)
    assert ours.dtype == np.float64 and ours.shape == ref.shape, name
    assert np.isnan(ours[:warmup]).all(), f"{name}: warm-up rows must be NaN"
    assert np.array_equal(np.isnan(ours), np.isnan(ref)), (
        f"{name}: NaN rows differ from TA-Lib (ours first valid "
        f"{np.flatnonzero(~np.isnan(ours))[:1]}, TA-Lib {np.flatnonzero(~np.isnan(ref))[:1]}, warm-up {warmup})"
    )
    a, b = ours[warmup:], ref[warmup:]
    scale = max(float(np.max(np.abs(b))), 1e-300)
    worst = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), scale)))
    assert worst <= RTOL, f"{name}: relative difference {worst:.3g} > {RTOL}"


def exact_zscore(x: np.ndarray, period: int) -> np.ndarray:
    """Two-pass reference: TA-Lib has no z-score, and its STDDEV (E[x^2] - E[x]^2) loses ~1e-7 at short periods."""
    windows = np.lib.stride_tricks.sliding_window_view(x, period)
    mean = windows.mean(axis=1)
    std = np.sqrt(((windows - mean[:, None]) ** 2).mean(axis=1))
    flat = std <= 1e-13 * np.abs(mean)
    z = np.divide(x[period - 1 :] - mean, std, out=np.zeros_like(std), where=~flat)
    return np.r_[np.full(period - 1, np.nan), z]


def cases(c: Candles):
    """(indicator, {column: TA-Lib reference}) for each standard indicator TA-Lib has, over several params."""
    o, h, lo, x, v = c.open, c.high, c.low, c.close, c.volume
    for period in (1, 2, 5, 20, 200):
        yield S.SMA(P.MovingAverageParams(period=period)), {"sma": talib.SMA(x, period)}
        yield S.EMA(P.EmaParams(period=period)), {"ema": talib.EMA(x, period)}
        yield S.WMA(P.MovingAverageParams(period=period)), {"wma": talib.WMA(x, period)}
        yield S.ATR(P.AtrParams(period=period)), {"atr": talib.ATR(h, lo, x, period)}
        yield S.Returns(P.ReturnsParams(period=period)), {"returns": talib.ROCP(x, period)}
        yield S.LogReturns(P.ReturnsParams(period=period)), {"log_returns": np.log(talib.ROCR(x, period))}
    for period in (2, 7, 14, 50):
        yield S.RSI(P.RsiParams(period=period)), {"rsi": talib.RSI(x, period)}
        yield S.ADX(P.AdxParams(period=period)), {"adx": talib.ADX(h, lo, x, period)}
        yield (
            S.BollingerBands(P.BollingerParams(period=period, nbdev=1.5)),
            dict(zip(("upper", "middle", "lower"), talib.BBANDS(x, period, 1.5, 1.5, 0))),
        )
        yield S.ZScore(P.ZScoreParams(period=period)), {"zscore": exact_zscore(x, period)}
        for ddof in (0, 1):
            logret = np.r_[np.nan, np.diff(np.log(x))]
            yield (
                S.Volatility(P.VolatilityParams(period=period, ddof=ddof)),
                {"volatility": talib.STDDEV(logret, period, 1) * np.sqrt(period / (period - ddof))},
            )
    for fast, slow, signal in ((12, 26, 9), (2, 3, 1), (5, 35, 5)):
        yield (
            S.MACD(P.MacdParams(fast=fast, slow=slow, signal=signal)),
            dict(zip(("macd", "signal", "hist"), talib.MACD(x, fast, slow, signal))),
        )
    for fk, sk, sd in ((5, 3, 3), (14, 1, 1), (1, 2, 4), (21, 5, 3)):
        yield (
            S.Stochastic(P.StochParams(fastk_period=fk, slowk_period=sk, slowd_period=sd)),
            dict(zip(("k", "d"), talib.STOCH(h, lo, x, fk, sk, 0, sd, 0))),
        )
    yield S.OBV(P.ObvParams()), {"obv": talib.OBV(x, v)}
    yield S.OBV(P.ObvParams(source="open")), {"obv": talib.OBV(o, v)}
    yield S.SMA(P.MovingAverageParams(period=10, source="volume")), {"sma": talib.SMA(v, 10)}


def check_all(c: Candles) -> int:
    checked = 0
    for indicator, refs in cases(c):
        out = indicator.compute(c)
        assert list(out) == indicator.columns()
        for column, ref in refs.items():
            assert_matches(f"{indicator!r}.{column}", out[column], ref, indicator.warmup)
            checked += 1
    return checked


def test_matches_talib_on_random_walk(candles):
    assert check_all(candles) > 80


def test_matches_talib_at_high_and_tiny_price_scales():
    check_all(make_candles(2000, seed=11, price=4e5))
    check_all(make_candles(2000, seed=12, price=1e-6))  # no absolute epsilon on price-scaled values


def test_flat_stretches_follow_talib(candles):
    """Flat prices: RSI holds its last ratio (TA-Lib C 0.8 zeroes only an exact 0), z-score and band width 0."""
    c = make_candles(600, seed=5)
    close = c.close.copy()
    close[100:300] = close[100]
    high, low = np.maximum(c.high, close), np.minimum(c.low, close)
    high[101:300] = low[101:300] = close[100]
    flat = Candles(c.time, close, high, low, close, c.volume, c.timeframe)
    check_all(flat)
    rsi = S.RSI(P.RsiParams()).compute(flat)["rsi"]
    assert np.ptp(rsi[130:300]) < 1e-9 and np.isfinite(rsi[130:300]).all()
    bands = S.BollingerBands(P.BollingerParams()).compute(flat)
    assert (bands["upper"][130:300] == bands["lower"][130:300]).all()
    assert (S.ZScore(P.ZScoreParams()).compute(flat)["zscore"][130:300] == 0.0).all()


def test_shorter_than_warmup_is_all_nan():
    c = make_candles(10)
    for indicator in (
        S.EMA(P.EmaParams(period=20)),
        S.MACD(P.MacdParams()),
        S.ADX(P.AdxParams()),
        S.RSI(P.RsiParams()),
        S.Stochastic(P.StochParams(fastk_period=14)),
    ):
        for column, values in indicator.compute(c).items():
            assert values.shape == (10,) and np.isnan(values).all(), (indicator, column)


@pytest.mark.shared
def test_matches_talib_on_real_kraken_minutes(shared_dir):
    """Kraken 1-minute XBT/USDC (Q1 2023): an illiquid pair with repeated prices and flat bars."""
    import polars as pl

    path = shared_dir / "data/kraken/ohlcvt/Q1_2023/XBTUSDC_1.csv"
    frame = pl.read_csv(path, has_header=False, new_columns=["t", "open", "high", "low", "close", "volume", "trades"])
    c = Candles(
        (frame["t"].to_numpy() * 1000).astype(np.int64),
        *(
            np.ascontiguousarray(frame[k].to_numpy(), dtype=np.float64)
            for k in ("open", "high", "low", "close", "volume")
        ),
        "1m",
    )
    assert len(c) > 50_000
    assert check_all(c) > 80
