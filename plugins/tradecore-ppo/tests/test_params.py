"""ppo-fast's spec and params: the plugin contract, and one-line errors for params that cannot work."""

from __future__ import annotations

import pytest

from tradecore.api import ManifestError, TradecoreError
from tradecore.testing import assert_spec_valid


def test_spec_follows_the_contract():
    from tradecore_ppo.hooks import tradecore_trainers

    (spec,) = list(tradecore_trainers())
    assert spec.name == "ppo-fast"
    assert_spec_valid(spec)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"clip": 0.1}, "trainer.params.clip: unknown key 'clip'"),
        ({"n_envs": 2, "n_steps": 2, "n_minibatches": 8}, "n_minibatches (8) exceeds the rollout size"),
        ({"learning_rate": 0}, "learning_rate must be in (0, 10]"),
        ({"learning_rate": {"schedule": "linear", "initial": 0}}, "trainer.params.learning_rate"),
        ({"gamma": 1.5}, "trainer.params.gamma"),
        ({"n_envs": 0}, "trainer.params.n_envs"),
        ({"early_stopping_patience": 2, "eval_freq": 0}, "needs eval_freq > 0"),
        ({"net_arch": [64, 0]}, "net_arch sizes must be between 1 and 8192"),
        ({"device": "tpu"}, "trainer.params.device"),
    ],
)
def test_params_errors_are_one_line_naming_the_field(runtime, tiny_manifest, params, message):
    tiny_manifest["trainer"]["params"] = params
    with pytest.raises(ManifestError) as info:
        runtime.resolve(tiny_manifest)
    text = str(info.value)
    assert message in text and "\n" not in text, text


def test_schedules_move_linearly():
    from tradecore_ppo.params import PPOParams

    params = PPOParams(learning_rate={"schedule": "linear", "initial": 1e-3, "final": 0.0}, clip_range=0.1)
    assert params.value_at("learning_rate", 0.0) == 1e-3 and params.value_at("learning_rate", 1.0) == 0.0
    assert params.value_at("learning_rate", 0.5) == pytest.approx(5e-4) and params.value_at("clip_range", 0.7) == 0.1


def test_cuda_without_a_gpu_is_a_one_line_error():
    import logging

    import torch

    from tradecore.api import resolve_torch_device as resolve_device

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(TradecoreError, match=r"^trainer.params.device: 'cuda' asked for.*no CUDA GPU") as info:
        resolve_device("cuda", logging.getLogger("test"))
    assert "\n" not in str(info.value)
    assert resolve_device("auto", logging.getLogger("test")) == "cpu"


def test_listing_and_validating_never_import_torch():
    import subprocess
    import sys

    code = (
        "import sys, tradecore_ppo.hooks as h; from tradecore_ppo.params import PPOParams; PPOParams(); "
        "list(h.tradecore_trainers()); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
