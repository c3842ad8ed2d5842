"""Baselines when the action set forces stops: holding baselines hold (one trade), at the agent's costs, and say so."""

from __future__ import annotations

import numpy as np
import pytest

from tradecore.interfaces import Candles, RunContext


@pytest.fixture
def experiment(runtime, tiny_manifest, tmp_path):
    from tradecore.env.experiment import build_experiment

    tiny_manifest["env"]["actions"]["take_profit_pct"] = [0.03]
    resolved = runtime.resolve(tiny_manifest)
    ctx = RunContext(lake_root=tmp_path, seed=0)
    candles = Candles.from_frame(resolved.source.build().load(ctx), "1h")
    return build_experiment(resolved, candles, ctx)


def test_buy_and_hold_holds_without_the_forced_stops(experiment):
    from tradecore.runs.baselines import BuyAndHold
    from tradecore.runs.compare import judge, run_policies, summary_notes, summary_rows
    from tradecore.runs.evaluate import rollout

    rollouts = run_policies(experiment, "test", None)
    metrics = judge(rollouts, experiment.timeframe, split="test")
    hold = metrics["baselines"]["buy_and_hold"]
    assert hold["trades"] == 1 and hold["exposure"] == 1.0
    assert set(metrics["baseline_notes"]) == {"buy_and_hold", "ma_crossover"}
    assert "without the stop-loss/take-profit" in metrics["baseline_notes"]["buy_and_hold"]
    rows = {row[0]: row for row in summary_rows(metrics)}
    assert "buy_and_hold*" in rows and "random" in rows and "flat" in rows
    assert any(line.startswith("* buy_and_hold:") for line in summary_notes(metrics))

    # the same costs: the one entry pays fee + slippage on the agent's env settings
    cfg = experiment.config
    entry = rollouts["buy_and_hold"].costs
    assert np.count_nonzero(entry) == 1
    assert entry[0] == pytest.approx(cfg.initial_equity * (cfg.fee_bps + cfg.slippage_bps) / 1e4, rel=0.02)
    # what the note is about: inside the forced-stop action set, "holding" is stopped out and re-enters
    probe = experiment.make_env("test", random_start=False, episode_steps=None)
    forced = rollout(experiment, "test", BuyAndHold(probe.layout))
    changes = np.count_nonzero(np.diff(np.r_[0.0, forced.exposure]))
    assert changes > 2
    # random and flat still act in the agent's own action set
    assert not rollouts["random_0"].note and not rollouts["flat"].note


def test_no_note_when_the_action_set_has_no_stops(runtime, tiny_manifest, tmp_path):
    from tradecore.env.experiment import build_experiment
    from tradecore.runs.compare import judge, run_policies

    tiny_manifest["env"]["actions"]["stop_loss_pct"] = []
    resolved = runtime.resolve(tiny_manifest)
    ctx = RunContext(lake_root=tmp_path, seed=0)
    experiment = build_experiment(resolved, Candles.from_frame(resolved.source.build().load(ctx), "1h"), ctx)
    metrics = judge(run_policies(experiment, "test", None), experiment.timeframe, split="test")
    assert "baseline_notes" not in metrics and metrics["baselines"]["buy_and_hold"]["trades"] == 1
