"""Batched env == single envs step for step; no look-ahead; splits and build-time errors."""

from __future__ import annotations

import numpy as np
import pytest

from tests.env.helpers import synthetic_experiment
from tradecore.env import rewards
from tradecore.errors import TradecoreError
from tradecore.interfaces import BatchOutcome, BatchRewardTerm, RewardTerm, StepOutcome

ALL = [
    ("pnl", 1.0, rewards.PnL),
    ("fee_cost", 1.0, rewards.FeeCost),
    ("drawdown", 0.5, rewards.DrawdownPenalty),
    ("exposure", 0.1, rewards.ExposurePenalty),
    ("turnover", 0.1, rewards.TurnoverPenalty),
    ("dsr", 0.1, rewards.DifferentialSharpe),
    ("terminal", 1.0, rewards.TerminalReward),
]


@pytest.mark.parametrize("mode", ["discrete", "continuous"])
def test_vector_env_matches_single_envs_exactly(mode):
    exp = synthetic_experiment(terms=ALL, episode_steps=30, action_mode=mode, observation="dict", leverage=2.0)
    n = 6
    venv = exp.make_vec_env("train", n, seed=5)
    envs = [exp.make_env("train") for _ in range(n)]
    vobs, _ = venv.reset(seed=5)
    sobs = [e.reset(seed=5 + i)[0] for i, e in enumerate(envs)]
    for i in range(n):
        assert np.array_equal(vobs["market"][i], sobs[i]["market"])
    venv.action_space.seed(1)
    ended = 0
    for _ in range(150):
        actions = venv.action_space.sample()
        vobs, vrew, vterm, vtrunc, vinfo = venv.step(actions)
        for i, env in enumerate(envs):
            a = {k: v[i] for k, v in actions.items()} if isinstance(actions, dict) else actions[i]
            obs, rew, term, trunc, info = env.step(a)
            assert (term, trunc) == (vterm[i], vtrunc[i])
            assert rew == vrew[i]
            for key in ("equity", "fee", "slippage", "opened", "closed", "stop_hit", "take_hit", "bar"):
                assert info[key] == vinfo[key][i], key
            for name, value in info["reward_terms"].items():
                assert value == vinfo["reward_terms"][name][i], name
            if term or trunc:
                ended += 1
                final = vinfo["final_obs"][i]
                assert np.array_equal(final["market"], obs["market"]) and np.array_equal(
                    final["account"], obs["account"]
                )
                obs, _ = env.reset()
            assert np.array_equal(obs["market"], vobs["market"][i])
            assert np.array_equal(obs["account"], vobs["account"][i])
    assert ended >= n  # autoreset exercised


def test_vector_env_flat_observation_and_masks_shape():
    exp = synthetic_experiment(observation="flat")
    venv = exp.make_vec_env("train", 4, seed=0)
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (4, 8 * 4 + 7) and venv.observation_space.contains(obs)
    assert venv.action_masks().shape == (4, 3 + 2 + 2 + 2)


def test_no_look_ahead_when_future_bars_change(manifest_factory):
    """Perturb every bar after t: observations, rewards and fills up to t stay the same."""
    from tradecore.data.synthetic import SyntheticParams, generate_candles
    from tradecore.env.experiment import build_experiment
    from tradecore.interfaces import Candles
    from tradecore.runtime import Runtime

    manifest = manifest_factory(
        indicators=[{"type": "rsi", "params": {"period": 14}}, {"type": "ema", "params": {"period": 20}}],
        env={
            "window": 16,
            "episode_steps": None,
            "random_start": False,
            "normalize_window": 50,
            "actions": {"direction": True, "stop_loss_pct": [0.01, 0.03]},
        },
        split={"train": 1.0, "validation": 0.0, "test": 0.0},
    )
    resolved = Runtime(entrypoints=False).resolve(manifest)
    base = Candles.from_frame(generate_candles(SyntheticParams(bars=600, timeframe="1h", seed=3)), "1h")
    cut = 400
    rng = np.random.default_rng(0)
    scale = np.ones(len(base))
    scale[cut + 1 :] = np.exp(rng.normal(0, 0.05, len(base) - cut - 1))
    wick = np.where(np.arange(len(base)) > cut, 1.01, 1.0)  # wider wicks too, after the cut only
    changed = Candles(
        base.time,
        base.open * scale,
        base.high * scale * wick,
        base.low * scale / wick,
        base.close * scale,
        base.volume * scale,
        base.timeframe,
    )

    def trace(candles):
        exp = build_experiment(resolved, candles)
        env = exp.make_env("train")
        obs, info = env.reset(seed=0)
        rows = [(obs, info["bar"])]
        rng_a = np.random.default_rng(1)
        while info["bar"] < cut:
            obs, r, term, trunc, info = env.step({"direction": int(rng_a.integers(3)), "stop_loss": 1})
            rows.append((obs, r, info["equity"], info["fee"], info["stop_hit"], info["bar"]))
        return rows

    a, b = trace(base), trace(changed)
    assert a[-1][-1] == cut
    for x, y in zip(a, b):
        assert np.array_equal(x[0]["market"], y[0]["market"]) and np.array_equal(x[0]["account"], y[0]["account"])
        assert x[1:] == y[1:]


def test_splits_are_disjoint_with_embargo_and_envs_stay_inside():
    exp = synthetic_experiment(bars=3000)
    parts = [exp.splits[p] for p in ("train", "validation", "test")]
    for left, right in zip(parts, parts[1:]):
        assert right.start - left.stop >= exp.config.window
    env = exp.make_env("validation", random_start=True)
    r = exp.splits["validation"]
    for seed in range(20):
        _, info = env.reset(seed=seed)
        assert r.start + exp.config.window - 1 <= info["bar"] < r.stop - 1
    assert len(exp.candles("test")) == len(exp.splits["test"])


def test_walk_forward_folds_slide_the_test_block():
    from tradecore.config.env import SplitConfig
    from tradecore.env.splits import compute_splits

    cfg = SplitConfig(train=0.6, validation=0.2, test=0.2, folds=3)
    folds = [compute_splits(1000, cfg, window=10, embargo=10, fold=k) for k in range(3)]
    assert [f["test"].stop for f in folds] == [600, 800, 1000]
    for f in folds:
        assert f["train"].start == 0 and f["validation"].start - f["train"].stop == 10
        assert f["test"].start - f["validation"].stop == 10


def test_build_time_errors_name_the_field(manifest_factory):
    from tradecore.config.env import EnvConfig
    from tradecore.data.synthetic import SyntheticParams, generate_candles
    from tradecore.env.experiment import build_experiment, experiment_from_arrays
    from tradecore.interfaces import Candles
    from tradecore.runtime import Runtime

    rt = Runtime(entrypoints=False)
    candles = Candles.from_frame(generate_candles(SyntheticParams(bars=300, timeframe="1h", seed=1)), "1h")
    with pytest.raises(TradecoreError, match="normalize_window"):
        build_experiment(rt.resolve(manifest_factory()), candles)  # 500-bar normalisation, 300 bars
    with pytest.raises(TradecoreError, match="env.window"):
        build_experiment(rt.resolve(manifest_factory(env={"window": 400, "normalize": "none"})), candles)
    with pytest.raises(TradecoreError, match="split.validation"):
        build_experiment(rt.resolve(manifest_factory(env={"window": 64, "normalize": "none"})), candles)
    feats = np.ones((300, 2), dtype=np.float32)
    feats[120, 1] = np.nan
    with pytest.raises(TradecoreError, match="'b' is NaN"):
        experiment_from_arrays(
            candles, feats, ["a", "b"], EnvConfig(window=8), reward_terms=[("pnl", 1.0, rewards.PnL)]
        )

    class NanTerm(rewards.Term):
        def __call__(self, o):
            return float("nan") if o.done else 0.0

    with pytest.raises(TradecoreError, match=r"reward\[0\].*non-finite"):
        experiment_from_arrays(
            candles,
            np.ones((300, 2), np.float32),
            ["a", "b"],
            EnvConfig(window=8),
            reward_terms=[("nan", 1.0, NanTerm)],
        )
    from tradecore.errors import ManifestError

    with pytest.raises(ManifestError, match="period"):
        rt.resolve(manifest_factory(indicators=[{"type": "rsi", "params": {"period": 0}}]))
    with pytest.raises(TradecoreError, match="no choice"):
        experiment_from_arrays(
            candles,
            np.ones((300, 2), np.float32),
            ["a", "b"],
            EnvConfig(window=8, actions={"direction": False}),
            reward_terms=[("pnl", 1.0, rewards.PnL)],
        )


class LossAversion(RewardTerm):
    """A third-party term with only the scalar form and per-episode state (a running step count)."""

    def __init__(self) -> None:
        self.steps = 0

    def reset(self) -> None:
        self.steps = 0

    def __call__(self, outcome: StepOutcome) -> float:
        self.steps += 1
        return (outcome.ret * 3.0 if outcome.ret < 0 else outcome.ret) + 1e-4 * self.steps


class BatchedExposure(BatchRewardTerm):
    """A third-party term with both forms."""

    def __call__(self, outcome: StepOutcome) -> float:
        return -outcome.exposure * outcome.equity

    def batch(self, outcome: BatchOutcome) -> np.ndarray:
        return -outcome.exposure * outcome.equity


def test_third_party_terms_in_the_vector_env_match_the_single_env():
    terms = [
        ("pnl", 1.0, rewards.PnL),
        ("loss", 0.5, LossAversion),
        ("exposure", 0.1, BatchedExposure),
        ("dsr", 0.1, rewards.DifferentialSharpe),
    ]
    exp = synthetic_experiment(terms=terms, episode_steps=20)
    n = 3
    venv = exp.make_vec_env("train", n, seed=2)
    envs = [exp.make_env("train") for _ in range(n)]
    venv.reset(seed=2)
    for i, env in enumerate(envs):
        env.reset(seed=2 + i)
    venv.action_space.seed(4)
    ended = 0
    for _ in range(70):
        actions = venv.action_space.sample()
        _, vrew, vterm, vtrunc, vinfo = venv.step(actions)
        for i, env in enumerate(envs):
            _, rew, term, trunc, info = env.step({k: v[i] for k, v in actions.items()})
            assert rew == vrew[i]
            assert info["reward_terms"] == {name: vinfo["reward_terms"][name][i] for name in info["reward_terms"]}
            if term or trunc:
                ended += 1
                env.reset()
    assert ended >= n  # the scalar term's per-episode state was reset on autoreset
