"""tradecore-talib: catalogue from TA-Lib metadata, components match TA-Lib, bad params fail at validation."""

from __future__ import annotations

import json

import numpy as np
import pytest

talib = pytest.importorskip("talib")

from tradecore_talib import catalogue, hooks  # noqa: E402
from tradecore_talib.models import component_name  # noqa: E402

from tradecore.api import Candles, ManifestError, build_features, labelled_indicators  # noqa: E402
from tradecore.testing import assert_spec_valid  # noqa: E402


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TRADECORE_CACHE", str(tmp_path))
    return tmp_path


@pytest.fixture
def runtime(tradecore_runtime):
    tradecore_runtime.register(hooks, "talib")
    return tradecore_runtime


def candles(n: int = 2000, seed: int = 3) -> Candles:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 1e-2, n)))
    open_ = np.r_[100.0, close[:-1]]
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 3e-3, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 3e-3, n)))
    return Candles(
        1_704_067_200_000 + np.arange(n, dtype=np.int64) * 3_600_000,
        open_,
        high,
        low,
        close,
        rng.lognormal(1, 1, n),
        "1h",
    )


def test_every_function_is_a_valid_component(runtime):
    functions = set(talib.get_functions()) - set(catalogue.UNSUPPORTED)
    provided = {p.spec.name: p.spec for p in runtime.registry.all("indicators") if p.plugin == "talib"}
    assert set(provided) == {component_name(f) for f in functions}
    for spec in provided.values():
        assert_spec_valid(spec)
    macd = provided["talib-macd"]
    assert macd.meta["columns"] == ["macd", "macdsignal", "macdhist"]
    assert list(macd.params_model.model_fields) == ["price", "fastperiod", "slowperiod", "signalperiod"]
    assert macd.params_model().fastperiod == 12  # TA-Lib's own default
    assert "matype" in provided["talib-bbands"].params_model.model_json_schema()["properties"]


def test_catalogue_is_cached_per_version_and_rebuilt_when_corrupt(cache_dir):
    first = catalogue.load_catalogue()
    path = catalogue.cache_path(catalogue.installed_version())
    assert path.parent == cache_dir and json.loads(path.read_text())["functions"] == first
    assert first["RSI"]["parameters"] == {"timeperiod": 14}
    path.write_text("{not json")
    assert catalogue.load_catalogue() == first


def test_manifest_components_build_and_match_talib(runtime, manifest_factory):
    manifest = manifest_factory(
        indicators=[
            {"type": "talib-rsi", "params": {"timeperiod": 10}},
            {"type": "talib-bbands", "params": {"timeperiod": 15, "nbdevup": 1.5, "matype": 1}},
            {"type": "talib-cdlengulfing"},
            {"type": "talib-beta", "params": {"price0": "close", "price1": "open"}},
            {"type": "talib-obv", "params": {"price": "open"}},
        ]
    )
    pairs = labelled_indicators(runtime.resolve(manifest).indicators)
    assert [label for label, _ in pairs][:2] == ["talib-rsi_10", "talib-bbands_15_1"]
    c = candles()
    refs = {
        0: {"real": talib.RSI(c.close, 10)},
        1: dict(zip(["upperband", "middleband", "lowerband"], talib.BBANDS(c.close, 15, 1.5, 2.0, 1))),
        2: {"integer": talib.CDLENGULFING(c.open, c.high, c.low, c.close).astype(float)},
        3: {"real": talib.BETA(c.close, c.open, 5)},
        4: {"real": talib.OBV(c.open, c.volume)},
    }
    for i, (_, indicator) in enumerate(pairs):
        out = indicator.compute(c)
        assert list(out) == indicator.columns()
        for column, ref in refs[i].items():
            w = indicator.warmup
            np.testing.assert_array_equal(out[column][w:], ref[w:])
            assert np.isnan(out[column][:w]).all() and not np.isnan(ref[w:]).any()
    fs = build_features(c, pairs, normalize_window=100)
    assert "talib-bbands_15_1.upperband" in fs.names and np.isfinite(fs.values).all()


def test_out_of_range_params_fail_validation_naming_the_component(runtime, manifest_factory):
    manifest = manifest_factory(
        indicators=[
            {"type": "talib-rsi", "params": {"timeperiod": 1}},
            {"type": "talib-sma", "params": {"timeperiod": -3}},
            {"type": "talib-macd", "params": {"fastperiod": "12"}},
            {"type": "talib-bbands", "params": {"matype": 9}},
            {"type": "talib-ema", "params": {"period": 9}},
        ]
    )
    with pytest.raises(ManifestError) as err:
        runtime.resolve(manifest)
    text = str(err.value)
    paths = [issue.path for issue in err.value.issues]
    assert "TA-Lib RSI rejects timeperiod=1" in text
    assert paths[:4] == [
        "indicators[0].params",
        "indicators[1].params.timeperiod",
        "indicators[2].params.fastperiod",
        "indicators[3].params.matype",
    ]
    assert "did you mean 'timeperiod'?" in text


def test_hook_module_is_light():
    import subprocess
    import sys

    code = (
        "import sys, tradecore_talib.hooks; "
        "print(','.join(m for m in ('talib', 'pandas', 'numpy', 'pydantic') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_listing_from_the_cache_does_not_import_talib(cache_dir):
    import subprocess
    import sys

    catalogue.load_catalogue()  # writes the cache
    code = (
        "import sys; from tradecore_talib import hooks; specs = list(hooks.tradecore_indicators()); "
        "print(len(specs), 'talib' in sys.modules, 'pandas' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, "TRADECORE_CACHE": str(cache_dir)},
    ).stdout.split()
    assert int(out[0]) >= 150 and out[1:] == ["False", "False"]
