"""Gymnasium and SB3 API compliance in every action/observation configuration; seeding; masks; render."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from tests.env.helpers import synthetic_experiment
from tradecore.env.wrappers import FlattenActions
from tradecore.errors import TradecoreError

CONFIGS = [
    dict(observation="dict", action_mode="discrete", random_start=True),
    dict(observation="flat", action_mode="discrete", random_start=False),
    dict(observation="dict", action_mode="continuous", random_start=True),
    dict(observation="flat", action_mode="continuous", random_start=True, allow_short=False),
    dict(
        observation="dict",
        action_mode="discrete",
        random_start=True,
        allow_short=False,
        actions={"direction": True, "size_buckets": [1.0]},
    ),
    dict(
        observation="flat",
        action_mode="discrete",
        random_start=True,
        actions={"direction": False, "size_buckets": [0.25, 0.5, 1.0], "take_profit_pct": [0.01, 0.02]},
    ),
]


@pytest.mark.parametrize("env_kwargs", CONFIGS, ids=lambda c: "-".join(f"{v}" for v in c.values())[:60])
def test_gymnasium_and_sb3_checkers_pass(env_kwargs):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    exp = synthetic_experiment(bars=1500, **env_kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unbounded Box and 2-D market warnings are advisory
        check_env(exp.make_env("train"), skip_render_check=True)
        env = exp.make_env("validation")
        sb3_env = env if env_kwargs["action_mode"] == "continuous" else FlattenActions(env)
        sb3_check_env(sb3_env, warn=True)
        check_env(sb3_env, skip_render_check=True)


def rollout(env, seed, actions):
    obs, info = env.reset(seed=seed)
    out = [(obs, info["bar"])]
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        out.append((obs, r, term, trunc, info["equity"], info["bar"]))
        if term or trunc:
            obs, info = env.reset()
            out.append((obs, info["bar"]))
    return out


def same(a, b):
    if isinstance(a, dict):
        return all(np.array_equal(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def test_same_seed_same_actions_identical_and_different_seeds_differ():
    exp = synthetic_experiment()
    env = exp.make_env()
    env.action_space.seed(3)
    actions = [env.action_space.sample() for _ in range(200)]
    first = rollout(exp.make_env(), 11, actions)
    second = rollout(exp.make_env(), 11, actions)
    assert same(first, second)
    starts = {exp.make_env().reset(seed=s)[1]["bar"] for s in range(10)}
    assert len(starts) >= 8


def test_reset_start_option_and_episode_truncation():
    exp = synthetic_experiment(episode_steps=5)
    env = exp.make_env()
    _, info = env.reset(seed=0, options={"start": 7})
    assert info["bar"] == exp.splits["train"].start + 7
    for _ in range(5):
        _, _, term, trunc, _ = env.step({"direction": 0, "size": 0, "stop_loss": 0, "take_profit": 0})
    assert trunc and not term


def test_stepping_after_the_episode_ended_asks_for_a_reset():
    exp = synthetic_experiment(episode_steps=None)
    env = exp.make_env()
    flat = {"direction": 0, "size": 0, "stop_loss": 0, "take_profit": 0}
    env.reset(seed=0, options={"start": env.engine.bounds.last_forced_start})  # the split's last step
    _, _, term, trunc, _ = env.step(flat)
    assert trunc and not term
    for _ in range(2):  # no bar is left to fill at: refused, and nothing changes
        with pytest.raises(TradecoreError, match=r"^episode is over: call reset\(\)"):
            env.step(flat)
    _, info = env.reset(seed=0)
    _, _, _, _, stepped = env.step(flat)
    assert stepped["bar"] == info["bar"] + 1
    truncated = exp.make_env(episode_steps=2)  # the step limit ends an episode just the same
    truncated.reset(seed=0)
    truncated.step(flat)
    assert truncated.step(flat)[3]
    with pytest.raises(TradecoreError, match="episode is over"):
        truncated.step(flat)


def test_masks_lock_stop_and_take_while_holding():
    exp = synthetic_experiment(random_start=False)
    env = FlattenActions(exp.make_env())
    env.reset(seed=0)
    assert env.action_masks().all()
    *_, info = env.step(np.array([1, 1, 1, 0]))  # long, size 1.0, stop bucket 1, take bucket 0
    if info["position"] != 0.0:  # not stopped out in the same bar
        mask = env.action_masks()
        assert mask.tolist() == [True] * 3 + [True] * 2 + [False, True] + [True, False]


def test_render_writes_an_episode_png(tmp_path):
    from tradecore.env.render import save_episode_png

    exp = synthetic_experiment()
    env = exp.make_env("test", render_mode="rgb_array")
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(30):
        env.step(env.action_space.sample())
    rgb = env.render()
    assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype == np.uint8 and rgb.std() > 0
    path = save_episode_png(env.episode_record(), tmp_path / "episode.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    record = env.episode_record()
    assert len(record["equity"]) == 31 and record["equity"][0] == exp.config.initial_equity


def test_gymnasium_make_builds_from_a_manifest(manifest_factory):
    import gymnasium

    import tradecore.env

    tradecore.env.register_envs()
    env = gymnasium.make("tradecore/Trading-v0", manifest=manifest_factory(), split="validation")
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    env.close()


def test_a_reward_term_that_raises_on_a_plausible_step_is_one_line():
    from tradecore.api import RewardTerm, TradecoreError
    from tradecore.env.experiment import _check_term

    class Divides(RewardTerm):
        def __call__(self, outcome):
            return 1 / (outcome.equity - outcome.equity)

    with pytest.raises(TradecoreError, match=r"reward\[0\]: reward term 'divides' failed on a plausible step: Zero"):
        _check_term("divides", 1.0, Divides, "reward[0]")
