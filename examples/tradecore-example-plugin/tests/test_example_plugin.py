"""Tests of the example plugin, written with the fixtures of tradecore's pytest plugin."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tradecore_example.plugin as plugin

from tradecore.api import Candles, ManifestError
from tradecore.testing import assert_spec_valid


def test_specs_follow_the_contract():
    for spec in [*plugin.tradecore_indicators(), *plugin.tradecore_reward_terms()]:
        assert_spec_valid(spec)


def test_indicator_from_a_manifest(tradecore_runtime, manifest_factory, synthetic_candles):
    tradecore_runtime.register(plugin, name="example")
    resolved = tradecore_runtime.resolve(manifest_factory(indicators=[{"type": "hl-spread", "params": {"period": 5}}]))
    indicator = resolved.indicators[0].build()
    candles = Candles.from_frame(synthetic_candles, "1h")
    values = indicator.compute(candles)["hl_spread"]
    assert np.isnan(values[:4]).all() and not np.isnan(values[4:]).any()
    expected = np.mean((candles.high[:5] - candles.low[:5]) / candles.close[:5])
    assert math.isclose(values[4], expected, rel_tol=1e-12)


def test_bad_params_are_refused(tradecore_runtime, manifest_factory):
    tradecore_runtime.register(plugin, name="example")
    with pytest.raises(ManifestError, match=r"indicators\[0\]\.params\.period"):
        tradecore_runtime.resolve(manifest_factory(indicators=[{"type": "hl-spread", "params": {"period": 0}}]))


def test_reward_term_weights_losses(tradecore_runtime, manifest_factory):
    tradecore_runtime.register(plugin, name="example")
    resolved = tradecore_runtime.resolve(
        manifest_factory(reward=[{"type": "loss-aversion", "params": {"loss_weight": 3}}])
    )
    term = resolved.reward[0].build()

    class Outcome:
        ret = -0.01

    assert term(Outcome()) == pytest.approx(-0.03)
    Outcome.ret = 0.02
    assert term(Outcome()) == pytest.approx(0.02)
