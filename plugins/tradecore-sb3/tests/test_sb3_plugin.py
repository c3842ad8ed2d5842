"""The sb3 plugin: spec contract, params validation, and the VecEnv adapter over tradecore's batched env."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from tradecore.testing import assert_spec_valid


def test_spec_follows_the_contract():
    from tradecore_sb3.hooks import tradecore_trainers

    (spec,) = list(tradecore_trainers())
    assert_spec_valid(spec)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"algo": "DQN", "n_epochs": 3}, "n_epochs does not apply to DQN"),
        ({"algo": "PPO", "policy": "MlpLstmPolicy"}, "needs algo RecurrentPPO"),
        ({"early_stopping_patience": 2, "eval_freq": 0}, "needs eval_freq"),
        ({"algo": "PPO", "lerning_rate": 1e-3}, "Extra inputs"),
    ],
)
def test_params_reject_what_does_not_apply(params, message):
    from tradecore_sb3.params import SB3Params

    with pytest.raises(ValidationError, match=message):
        SB3Params(**params)


def test_linear_schedule_and_sb3_kwargs():
    from tradecore_sb3.params import SB3Params
    from tradecore_sb3.trainer import SB3Trainer

    params = SB3Params(learning_rate={"schedule": "linear", "initial": 1e-3, "final": 0.0}, n_steps=64)
    kwargs = SB3Trainer(params).algo_kwargs()
    assert kwargs["n_steps"] == 64 and kwargs["learning_rate"](1.0) == 1e-3 and kwargs["learning_rate"](0.0) == 0.0


def test_vec_adapter_matches_the_batched_env_and_reports_terminal_obs(tradecore_runtime, manifest_factory):
    from tradecore_sb3.policy import ActionCodec
    from tradecore_sb3.vec import GymnasiumVecEnv

    from tradecore.api import Candles, RunContext, build_experiment

    manifest = manifest_factory(env={"window": 8, "episode_steps": 20, "normalize_window": 50})
    resolved = tradecore_runtime.resolve(manifest)
    ctx = RunContext(lake_root=".", seed=0)
    candles = Candles.from_frame(resolved.source.build().load(ctx), "1h")
    exp = build_experiment(resolved, candles, ctx)
    raw = exp.make_vec_env("train", 3, seed=5)
    codec = ActionCodec(raw.single_action_space, "PPO")
    venv = GymnasiumVecEnv(exp.make_vec_env("train", 3, seed=5), codec)
    obs = venv.reset()
    raw_obs, _ = raw.reset(seed=5)
    np.testing.assert_array_equal(obs["market"], raw_obs["market"])
    ended = 0
    for _ in range(45):
        actions = np.stack([venv.action_space.sample() for _ in range(3)])
        obs, rewards, dones, infos = venv.step(actions)
        raw_obs, raw_rewards, *_ = raw.step(codec.to_env(actions))
        np.testing.assert_allclose(rewards, raw_rewards.astype(np.float32))
        for i in np.flatnonzero(dones):
            ended += 1
            assert infos[i]["terminal_observation"]["market"].shape == (8, 2)
            assert infos[i]["TimeLimit.truncated"] is True
    assert ended >= 3
