"""Sweep config validation and planning: caps, paths checked against the manifest, expansion, trial errors."""

from __future__ import annotations

import pytest

from tradecore.compute.sweep import expand, parse_path, plan_sweep, set_path
from tradecore.config.sweep import SweepConfig
from tradecore.errors import ManifestError, TradecoreError
from tradecore.runtime import Runtime

from .conftest import synthetic_manifest


@pytest.fixture(scope="module")
def registry():
    return Runtime(entrypoints=False).registry


def test_grid_beyond_cap_is_refused_with_the_count(registry):
    data = synthetic_manifest(
        sweep={"max_runs": 10, "parameters": {"env.fee_bps": {"values": [1, 2, 3, 4]}, "seed": {"values": [1, 2, 3]}}}
    )
    with pytest.raises(ManifestError) as err:
        plan_sweep(data, registry)
    assert "expands to 12 runs, more than max_runs=10" in str(err.value)
    assert str(err.value).startswith("sweep:")


def test_cli_cap_override_applies(registry):
    data = synthetic_manifest(sweep={"parameters": {"seed": {"values": list(range(8))}}})
    with pytest.raises(ManifestError, match="expands to 8 runs, more than max_runs=5"):
        plan_sweep(data, registry, max_runs=5)
    assert len(plan_sweep(data, registry, max_runs=8).trials) == 8


def test_random_search_needs_samples_and_grid_needs_values():
    with pytest.raises(ValueError, match="needs samples"):
        SweepConfig.model_validate({"method": "random", "parameters": {"seed": {"low": 1, "high": 9}}})
    with pytest.raises(ValueError, match="a grid needs values"):
        SweepConfig.model_validate({"parameters": {"env.fee_bps": {"low": 1, "high": 9}}})
    with pytest.raises(ValueError, match="not a params path"):
        SweepConfig.model_validate({"parameters": {"env..fee": {"values": [1]}}})
    with pytest.raises(ValueError, match="log range needs low > 0"):
        SweepConfig.model_validate(
            {"method": "random", "samples": 2, "parameters": {"env.fee_bps": {"low": 0, "high": 9, "log": True}}}
        )


def test_paths_are_checked_against_the_manifest_and_components(registry):
    data = synthetic_manifest(
        indicators=[],
        sweep={
            "parameters": {
                "source.params.sed": {"values": [1]},
                "env.fee": {"values": [1]},
                "trainer.params.learning_rate": {"values": [0.1]},
                "backend.params.mode": {"values": ["subprocess"]},
                "indicators[2].params.period": {"values": [3]},
                "env.actions.size_bucket": {"values": [[1.0]]},
            }
        },
    )
    with pytest.raises(ManifestError) as err:
        plan_sweep(data, registry)
    text = str(err.value)
    assert "sweep.parameters.source.params.sed: source.params has no key 'sed'" in text
    assert "did you mean source.params.seed?" in text
    assert "did you mean env.fee_bps?" in text
    assert "the manifest has no trainer" in text
    assert "'backend' cannot be swept" in text
    assert "indicators[2] does not exist (the manifest has 0)" in text
    assert "did you mean env.actions.size_buckets?" in text


def test_bad_values_are_reported_per_trial_before_anything_runs(registry):
    data = synthetic_manifest(sweep={"parameters": {"env.fee_bps": {"values": [10, -1, "x"]}}})
    with pytest.raises(ManifestError) as err:
        plan_sweep(data, registry)
    lines = str(err.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("sweep.parameters.env.fee_bps: trial 1 (env.fee_bps=-1)")
    assert "trial 2 (env.fee_bps='x')" in lines[1]


def test_grid_expands_in_declared_order_with_unique_names(registry):
    data = synthetic_manifest(
        sweep={"parameters": {"source.params.seed": {"values": [1, 2]}, "env.fee_bps": {"values": [10, 26]}}}
    )
    plan = plan_sweep(data, registry)
    assert [t.overrides for t in plan.trials] == [
        {"source.params.seed": 1, "env.fee_bps": 10},
        {"source.params.seed": 1, "env.fee_bps": 26},
        {"source.params.seed": 2, "env.fee_bps": 10},
        {"source.params.seed": 2, "env.fee_bps": 26},
    ]
    assert [t.resolved.manifest.name for t in plan.trials] == [f"sweep-test-t00{i}" for i in range(4)]
    assert plan.trials[3].resolved.source.params.seed == 2
    assert plan.trials[3].resolved.manifest.env.fee_bps == 26
    assert all(t.resolved.manifest.sweep is None for t in plan.trials)


def test_random_search_is_seeded_and_respects_ranges():
    config = SweepConfig.model_validate(
        {
            "method": "random",
            "samples": 20,
            "parameters": {
                "trainer.params.learning_rate": {"low": 1e-5, "high": 1e-2, "log": True},
                "env.window": {"low": 8, "high": 64, "integer": True},
                "env.fee_bps": {"values": [10, 26]},
            },
        }
    )
    first, again, other = expand(config, seed=7), expand(config, seed=7), expand(config, seed=8)
    assert first == again and first != other
    assert all(1e-5 <= t["trainer.params.learning_rate"] <= 1e-2 for t in first)
    assert all(isinstance(t["env.window"], int) and 8 <= t["env.window"] <= 64 for t in first)
    assert {t["env.fee_bps"] for t in first} == {10, 26}


def test_set_path_creates_missing_params_and_indexes_lists():
    data = {"trainer": {"type": "x"}, "indicators": [{"type": "rsi"}]}
    set_path(data, "trainer.params.learning_rate", 0.1)
    set_path(data, "indicators[0].params.period", 7)
    assert data == {
        "trainer": {"type": "x", "params": {"learning_rate": 0.1}},
        "indicators": [{"type": "rsi", "params": {"period": 7}}],
    }
    assert parse_path("reward[1].weight") == ["reward", 1, "weight"]
    with pytest.raises(TradecoreError):
        parse_path("env.fee-bps")


def test_a_manifest_without_sweep_is_refused_with_an_example(registry):
    with pytest.raises(TradecoreError, match="has no 'sweep' section; add one"):
        plan_sweep(synthetic_manifest(), registry)
