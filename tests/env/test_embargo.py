"""The default embargo is the features' look-back: the candles a feature row reads before it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tradecore.config.env import SplitConfig
from tradecore.env.splits import choose_embargo

REPO = Path(__file__).resolve().parents[2]
QUICKSTART_INDICATORS = json.loads((REPO / "examples" / "quickstart.json").read_text())["indicators"]


@pytest.mark.parametrize(
    ("indicators", "env", "lookback"),
    [
        (QUICKSTART_INDICATORS, {"window": 16}, 96 + 499),  # log_returns_96's warm-up + a 500-bar rolling z-score
        ([{"type": "rsi", "params": {"period": 14}}], {"window": 8, "normalize_window": 100}, 14 + 99),
        ([{"type": "rsi", "params": {"period": 14}}], {"window": 8, "normalize": "none"}, 14),
        ([{"type": "time"}, {"type": "log_returns", "params": {"period": 3}}], {"window": 4}, 3 + 499),
    ],
)
def test_lookback_is_where_the_features_start_and_sizes_the_default_embargo(
    manifest_factory, indicators, env, lookback
):
    from tradecore.data.synthetic import SyntheticParams, generate_candles
    from tradecore.env.experiment import build_experiment, feature_lookback
    from tradecore.interfaces import Candles
    from tradecore.runtime import Runtime

    resolved = Runtime(entrypoints=False).resolve(manifest_factory(indicators=indicators, env=env))
    assert feature_lookback(resolved) == lookback
    candles = Candles.from_frame(generate_candles(SyntheticParams(bars=5000, timeframe="1h", seed=1)), "1h")
    exp = build_experiment(resolved, candles)
    assert exp.first == lookback  # the first feature row is the look-back, read without any candles
    assert exp.embargo == max(lookback, env["window"])
    assert exp.embargo_reason == ("feature look-back" if lookback >= env["window"] else "env.window")
    # no candle feeds both a part's observations and an earlier part's: the first feature row of a part
    # reads `lookback` candles back, all of them after the previous part's last bar
    parts = list(exp.splits.values())
    for before, after in zip(parts, parts[1:]):
        assert after.start - lookback >= before.stop


def test_choose_embargo_says_where_the_number_comes_from():
    assert choose_embargo(SplitConfig(), window=16, lookback=595) == (595, "feature look-back")
    assert choose_embargo(SplitConfig(), window=64, lookback=14) == (64, "env.window")
    assert choose_embargo(SplitConfig(embargo_bars=100), window=16, lookback=595) == (100, "split.embargo_bars")


def test_validate_says_the_embargo():
    out = subprocess.run(
        [sys.executable, "-m", "tradecore", "validate", "examples/quickstart.json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.rstrip().endswith(", embargo 595 bars (feature look-back))")


def test_a_whole_range_needs_no_split(manifest_factory, synthetic_candles):
    from tradecore.env.experiment import build_experiment
    from tradecore.interfaces import Candles
    from tradecore.runtime import Runtime

    resolved = Runtime(entrypoints=False).resolve(manifest_factory(env={"window": 16}))
    candles = Candles.from_frame(synthetic_candles, "1h").slice(0, 700)  # too short for 3 parts and 2 embargoes
    with pytest.raises(Exception, match="split.train"):
        build_experiment(resolved, candles)
    exp = build_experiment(resolved, candles, whole=True)
    assert list(exp.splits) == ["all"] and exp.splits["all"] == range(exp.first, 700) and exp.embargo == 0
