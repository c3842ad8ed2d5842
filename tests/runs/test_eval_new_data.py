"""Evaluating a trained policy on new data needs no split: any range longer than the warm-up works."""

from __future__ import annotations

import json

import pytest

from tradecore.errors import TradecoreError


def _synthetic(bars: int, seed: int = 99) -> str:
    return json.dumps({"type": "synthetic", "params": {"bars": bars, "timeframe": "1h", "seed": seed}})


@pytest.mark.slow
def test_eval_on_a_short_new_range_uses_every_bar_after_the_warm_up(runtime, tiny_manifest, tmp_path):
    from tradecore.env.experiment import feature_lookback, minimum_candles
    from tradecore.runs.evaluation_cli import evaluate_run

    run = runtime.run(tiny_manifest, runs_root=tmp_path, echo=lambda _: None).run_dir
    resolved = runtime.resolve(tiny_manifest)
    lookback, window = feature_lookback(resolved), tiny_manifest["env"]["window"]
    assert lookback == 113  # rsi_14's warm-up + 99 rows of the 100-bar normalisation window
    # 400 bars: too few for a train/validation/test split with two 113-bar embargoes, enough to evaluate
    out = evaluate_run(runtime, run.name, data=_synthetic(400), runs_root=tmp_path, echo=lambda _: None)
    metrics = out["metrics"]
    assert metrics["split"] == "all"
    assert metrics["bars"] == 400 - lookback - window  # every step after the warm-up and the first window
    # the run's own data, whole
    own = evaluate_run(runtime, run.name, split="all", runs_root=tmp_path, echo=lambda _: None)
    assert own["metrics"]["bars"] == 1500 - lookback - window
    need = minimum_candles(resolved)
    assert need == lookback + window + 1
    smallest = evaluate_run(runtime, run.name, data=_synthetic(need), runs_root=tmp_path, echo=lambda _: None)
    assert smallest["metrics"]["bars"] == 1
    with pytest.raises(TradecoreError, match=rf"^--data: {need - 1} candles are too few .* at least {need} "):
        evaluate_run(runtime, run.name, data=_synthetic(need - 1), runs_root=tmp_path, echo=lambda _: None)
