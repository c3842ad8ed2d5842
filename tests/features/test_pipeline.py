"""build_features: layout, explicit warm-up, causal normalisation, and one-line errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest

from tests.features.conftest import make_candles
from tradecore.errors import TradecoreError
from tradecore.features import params as P
from tradecore.features import standard as S
from tradecore.features.labels import indicator_label, labelled_indicators, unique_labels
from tradecore.features.pipeline import build_features
from tradecore.interfaces import Candles, Indicator


def standard_set():
    return [
        ("sma_20", S.SMA(P.MovingAverageParams())),
        ("ema_20", S.EMA(P.EmaParams())),
        ("rsi_14", S.RSI(P.RsiParams())),
        ("macd", S.MACD(P.MacdParams())),
        ("atr_14", S.ATR(P.AtrParams())),
        ("bbands_20", S.BollingerBands(P.BollingerParams())),
        ("volatility_60", S.Volatility(P.VolatilityParams())),
        ("zscore_20", S.ZScore(P.ZScoreParams())),
        ("vwap_20", S.VWAP(P.VwapParams())),
        ("obv", S.OBV(P.ObvParams())),
        ("stoch", S.Stochastic(P.StochParams())),
        ("adx_14", S.ADX(P.AdxParams())),
        ("returns_1", S.Returns(P.ReturnsParams())),
        ("log_returns_1", S.LogReturns(P.ReturnsParams())),
        ("wma_20", S.WMA(P.MovingAverageParams())),
        ("time", S.TimeFeatures(P.TimeFeatureParams())),
    ]


@pytest.mark.parametrize("normalize", ["rolling", "expanding", "none"])
def test_layout_names_and_explicit_warmup(candles, normalize):
    fs = build_features(candles, standard_set(), normalize=normalize, normalize_window=100)
    assert fs.values.dtype == np.float32 and fs.values.flags.c_contiguous
    assert fs.names[:4] == ["sma_20", "ema_20", "rsi_14", "macd.macd"]
    assert "bbands_20.upper" in fs.names and "time.dow_cos" in fs.names and len(fs.names) == 24
    assert fs.warmup_by_indicator["macd"] == 33 and fs.warmup_by_indicator["volatility_60"] == 60
    assert fs.warmup_by_indicator["adx_14"] == 27 and fs.warmup_by_indicator["stoch"] == 8
    expected_start = 60 + (99 if normalize != "none" else 0)  # longest warm-up + normalisation warm-up
    assert fs.start == expected_start and fs.values.shape == (len(candles) - expected_start, 24)
    assert np.isfinite(fs.values).all()
    if normalize == "none":  # raw values, shifted by ``start``
        rsi = S.RSI(P.RsiParams()).compute(candles)["rsi"]
        np.testing.assert_allclose(fs.column("rsi_14"), rsi[fs.start :].astype(np.float32))
    else:
        # time features stay on their own scale; z-scores are bounded by sqrt(window - 1)
        assert not fs.normalized["time.hour_sin"] and fs.normalized["rsi_14"]
        assert np.abs(fs.values).max() <= np.sqrt(99) + 1e-4


def test_rolling_zscore_matches_a_direct_computation(candles):
    window = 50
    fs = build_features(candles, [("ema_20", S.EMA(P.EmaParams()))], normalize="rolling", normalize_window=window)
    ema = S.EMA(P.EmaParams()).compute(candles)["ema"]
    t = np.arange(fs.start, len(candles))
    windows = np.lib.stride_tricks.sliding_window_view(ema, window)[t - window + 1]
    expected = (ema[t] - windows.mean(axis=1)) / windows.std(axis=1)
    np.testing.assert_allclose(fs.values[:, 0], expected, rtol=1e-5, atol=1e-5)
    fs = build_features(candles, [("ema_20", S.EMA(P.EmaParams()))], normalize="expanding", normalize_window=window)
    expected = [
        (ema[i] - ema[19 : i + 1].mean()) / ema[19 : i + 1].std() for i in (fs.start, fs.start + 500, len(ema) - 1)
    ]
    np.testing.assert_allclose(fs.values[[0, 500, -1], 0], expected, rtol=1e-5)


@pytest.mark.parametrize("normalize", ["rolling", "expanding", "none"])
def test_perturbing_future_bars_leaves_past_features_unchanged(normalize):
    """Leakage: replace every bar after t with other data; features of rows <= t must be identical."""
    base = make_candles(1500, seed=1)
    other = make_candles(1500, seed=2, price=12_345.0)
    for t in (400, 777, 1200):
        mixed = Candles(
            base.time,
            *(
                np.r_[getattr(base, k)[: t + 1], getattr(other, k)[t + 1 :]]
                for k in ("open", "high", "low", "close", "volume")
            ),
            base.timeframe,
        )
        a = build_features(base, standard_set(), normalize=normalize, normalize_window=64)
        b = build_features(mixed, standard_set(), normalize=normalize, normalize_window=64)
        assert a.start == b.start and a.names == b.names
        rows = t + 1 - a.start
        assert np.array_equal(a.values[:rows], b.values[:rows]), f"row <= {t} changed after perturbing the future"
        assert not np.array_equal(a.values[rows:], b.values[rows:])


def test_period_zero_is_a_validation_error_naming_the_field(tradecore_runtime, manifest_factory):
    from tradecore.errors import ManifestError

    manifest = manifest_factory(
        indicators=[
            {"type": "rsi", "params": {"period": 14}},
            {"type": "sma", "params": {"period": 0}},
            {"type": "macd", "params": {"fast": 26, "slow": 12}},
        ]
    )
    with pytest.raises(ManifestError) as err:
        tradecore_runtime.resolve(manifest)
    paths = [issue.path for issue in err.value.issues]
    assert "indicators[1].params.period" in paths and "indicators[2].params" in paths
    assert "fast (26) must be less than slow (12)" in str(err.value)


def test_manifest_indicators_build_with_labels(tradecore_runtime, manifest_factory, synthetic_source_candles):
    manifest = manifest_factory(
        indicators=[
            {"type": "rsi", "params": {"period": 14}},
            {"type": "macd"},
            {"type": "ema", "params": {"period": 50, "source": "volume"}},
            {"type": "rsi", "params": {"period": 14}},
            {"type": "time"},
        ]
    )
    resolved = tradecore_runtime.resolve(manifest)
    pairs = labelled_indicators(resolved.indicators)
    assert [label for label, _ in pairs] == ["rsi_14", "macd_12_26_9", "ema_50_volume", "rsi_14#2", "time"]
    fs = build_features(synthetic_source_candles, pairs, normalize_window=200)
    assert fs.names[1:4] == ["macd_12_26_9.macd", "macd_12_26_9.signal", "macd_12_26_9.hist"]
    assert np.array_equal(fs.column("rsi_14"), fs.column("rsi_14#2"))
    assert indicator_label("obv", {}) == "obv" and unique_labels(["a", "a", "a"]) == ["a", "a#2", "a#3"]


def test_listing_declares_columns(tradecore_runtime):
    spec = tradecore_runtime.component("indicators", "macd").spec
    assert spec.meta["columns"] == ["macd", "signal", "hist"]
    for provided in tradecore_runtime.registry.all("indicators"):
        if provided.plugin == "standard-indicators":
            indicator = provided.spec.build(provided.spec.params_model())
            assert indicator.columns() == provided.spec.meta["columns"], provided.spec.name


class Broken(Indicator):
    def __init__(self, bad_row: int | None = None, value: float = np.nan, warmup: int = 5, columns=("x",)):
        self.bad_row, self.value, self._warmup, self._columns = bad_row, value, warmup, columns

    def columns(self):
        return list(self._columns)

    @property
    def warmup(self):
        return self._warmup

    def compute(self, candles):
        out = np.arange(len(candles), dtype=np.float64)
        out[: self._warmup] = np.nan
        if self.bad_row is not None:
            out[self.bad_row] = self.value
        return {"x": out}


@pytest.mark.parametrize(
    ("indicator", "message"),
    [
        (
            Broken(bad_row=700),
            "feature 'bad' is NaN at row 700 (2024-01-01T11:40:00.000 UTC) after its warm-up of 5 rows",
        ),
        (Broken(bad_row=6, value=np.inf), "feature 'bad' is infinite at row 6"),
        (Broken(warmup=5000), "indicator 'bad' needs 5000 warm-up rows but the candles have only 3000"),
        (Broken(warmup=2900), "no rows left: 'bad' needs 2900 warm-up rows + 499 for normalize_window=500"),
        (Broken(columns=("x", "y")), "indicator 'bad' did not return its declared column(s) y"),
        (Broken(warmup=-1), "indicator 'bad': warmup must be a non-negative integer"),
    ],
)
def test_bad_indicator_output_is_one_clear_error(candles, indicator, message):
    with pytest.raises(TradecoreError) as err:
        build_features(candles, [("ok", S.RSI(P.RsiParams())), ("bad", indicator)])
    assert message in str(err.value) and "\n" not in str(err.value)


def test_bad_pipeline_arguments(candles):
    with pytest.raises(TradecoreError, match="normalize must be one of"):
        build_features(candles, [], normalize="global")
    with pytest.raises(TradecoreError, match="normalize_window must be an integer >= 2"):
        build_features(candles, [], normalize_window=1)
    with pytest.raises(TradecoreError, match="labels must be unique; repeated: a"):
        build_features(candles, [("a", S.OBV(P.ObvParams())), ("a", S.OBV(P.ObvParams()))])


def test_time_features_are_utc_hour_and_weekday():
    # 2024-01-01 was a Monday; bars at 00:00, 06:00, 12:00 and the next Sunday 18:00
    start = 1_704_067_200_000
    hour = 3_600_000
    times = np.array([start, start + 6 * hour, start + 12 * hour, start + (6 * 24 + 18) * hour], dtype=np.int64)
    ones = np.ones(4)
    out = S.TimeFeatures(P.TimeFeatureParams()).compute(Candles(times, ones, ones, ones, ones, ones, "1h"))
    np.testing.assert_allclose(out["hour_sin"], [0, 1, 0, -1], atol=1e-12)
    np.testing.assert_allclose(out["hour_cos"], [1, 0, -1, 0], atol=1e-12)
    angle = 2 * np.pi * np.array([0, 0, 0, 6]) / 7
    np.testing.assert_allclose(out["dow_sin"], np.sin(angle), atol=1e-12)
    assert S.TimeFeatures(P.TimeFeatureParams(day_of_week=False)).columns() == ["hour_sin", "hour_cos"]
    with pytest.raises(ValueError, match="enable at least one"):
        P.TimeFeatureParams(hour=False, day_of_week=False)


def test_vwap_is_volume_weighted_typical_price_and_survives_zero_volume(candles):
    vwap = S.VWAP(P.VwapParams(period=10)).compute(candles)["vwap"]
    tp = (candles.high + candles.low + candles.close) / 3
    i = 500
    w = slice(i - 9, i + 1)
    assert vwap[i] == pytest.approx((tp[w] * candles.volume[w]).sum() / candles.volume[w].sum(), rel=1e-12)
    volume = candles.volume.copy()
    volume[100:200] = 0.0
    quiet = Candles(candles.time, candles.open, candles.high, candles.low, candles.close, volume)
    out = S.VWAP(P.VwapParams(period=10)).compute(quiet)["vwap"]
    assert np.isfinite(out[9:]).all() and out[150] == pytest.approx(tp[150])


def test_time_features_off_the_minute_grid_and_before_1970():
    times = np.array([-86_400_000 + 6 * 3_600_000, 1_704_067_200_000 + 90 * 60_000 + 30_000], dtype=np.int64)
    ones = np.ones(2)
    out = S.TimeFeatures(P.TimeFeatureParams()).compute(Candles(times, ones, ones, ones, ones, ones, "1m"))
    hours = np.array([6.0, 1.5 + 0.5 / 60])
    np.testing.assert_allclose(out["hour_sin"], np.sin(2 * np.pi * hours / 24), atol=1e-12)
    np.testing.assert_allclose(out["hour_cos"], np.cos(2 * np.pi * hours / 24), atol=1e-12)
    days = np.array([2, 0])  # 1969-12-31 was a Wednesday; 2024-01-01 a Monday
    np.testing.assert_allclose(out["dow_sin"], np.sin(2 * np.pi * days / 7), atol=1e-12)
