"""Every algorithm of the sb3 trainer: a tiny real training through the trainer component, a saved model,
and a deterministic evaluation rollout of it (continuous actions for SAC/TD3, masks for MaskablePPO)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tradecore.interfaces import Candles, RunContext

SMALL_NET = {"net_arch": [32, 32]}
OFF_POLICY = {"learning_starts": 64, "buffer_size": 2000, "batch_size": 32, "train_freq": 4, **SMALL_NET}
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "A2C": ("discrete", {"n_steps": 16, **SMALL_NET}),
    "DQN": ("discrete", {**OFF_POLICY, "target_update_interval": 100}),
    "SAC": ("continuous", OFF_POLICY),
    "TD3": ("continuous", OFF_POLICY),
    "RecurrentPPO": ("discrete", {"n_steps": 64, "batch_size": 64, "n_epochs": 1, "lstm_hidden_size": 16}),
    "MaskablePPO": ("discrete", {"n_steps": 64, "batch_size": 64, "n_epochs": 1, **SMALL_NET}),
}
STEPS = 384


@pytest.fixture(scope="module")
def candles():
    from tradecore.data.synthetic import SyntheticParams, generate_candles

    return Candles.from_frame(generate_candles(SyntheticParams(bars=900, timeframe="1h", seed=5)), "1h")


def _experiment(runtime, manifest: dict[str, Any], candles: Candles, run_dir: Path):
    from tradecore.env.experiment import build_experiment

    resolved = runtime.resolve(manifest)
    ctx = RunContext(lake_root=run_dir, seed=manifest["seed"], run_dir=run_dir)
    return resolved, build_experiment(resolved, candles, ctx), ctx


@pytest.mark.parametrize("algo", list(CASES))
def test_algorithm_trains_saves_and_evaluates(algo, runtime, tiny_manifest, candles, tmp_path):
    from tradecore.runs.evaluate import rollout

    mode, params = CASES[algo]
    manifest = copy.deepcopy(tiny_manifest)
    manifest["source"]["params"]["bars"] = 900
    manifest["env"].update(action_mode=mode, episode_steps=64, normalize_window=50)
    manifest["trainer"]["params"] = {
        "algo": algo,
        "total_timesteps": STEPS,
        "n_envs": 2,
        "eval_freq": STEPS // 2,
        "checkpoint_freq": 0,
        "tensorboard": False,
        **params,
    }
    resolved, experiment, ctx = _experiment(runtime, manifest, candles, tmp_path)
    trainer = resolved.trainer.build()
    result = trainer.train(experiment, ctx)

    assert result.algo == algo and result.timesteps >= STEPS
    assert (tmp_path / "model" / "model.zip").is_file() and (tmp_path / "model" / "best_model.zip").is_file()
    assert result.best_validation_return is not None
    policy = trainer.load_policy(tmp_path, experiment)
    assert type(policy.model).__name__ == algo
    if mode == "continuous":
        assert type(policy.codec.sb3_space).__name__ == "Box"
    else:  # DQN acts in one Discrete product of the heads; the others in MultiDiscrete heads
        assert type(policy.codec.sb3_space).__name__ == ("Discrete" if algo == "DQN" else "MultiDiscrete")
    evaluated = rollout(experiment, "test", policy)
    assert len(evaluated.equity) == len(evaluated.exposure) + 1 > 100
    assert np.isfinite(evaluated.equity).all() and evaluated.equity[0] == pytest.approx(10_000.0)
    if mode == "continuous":
        assert -1.0 <= evaluated.exposure.min() and evaluated.exposure.max() <= 1.0
    else:
        assert set(np.unique(np.sign(evaluated.exposure))) <= {-1.0, 0.0, 1.0}


def test_maskable_ppo_follows_the_env_masks(runtime, tiny_manifest, candles, tmp_path):
    """With a position open the stop head is locked; the trained MaskablePPO never picks a masked choice."""
    manifest = copy.deepcopy(tiny_manifest)
    manifest["env"].update(episode_steps=64, normalize_window=50)
    manifest["trainer"]["params"] = {
        "algo": "MaskablePPO",
        "total_timesteps": 128,
        "n_envs": 2,
        "n_steps": 64,
        "batch_size": 64,
        "n_epochs": 1,
        "eval_freq": 0,
        "checkpoint_freq": 0,
        "tensorboard": False,
    }
    resolved, experiment, ctx = _experiment(runtime, manifest, candles, tmp_path)
    trainer = resolved.trainer.build()
    trainer.train(experiment, ctx)
    policy = trainer.load_policy(tmp_path, experiment)
    venv = experiment.make_vec_env("test", 4, seed=1)
    obs, _ = venv.reset(seed=1)
    heads = list(venv.single_action_space.spaces)
    sizes = [int(venv.single_action_space[h].n) for h in heads]
    offsets = np.cumsum([0, *sizes])
    stop = heads.index("stop_loss")
    rng = np.random.default_rng(0)
    locked = 0
    for _ in range(60):
        masks = venv.action_masks()
        rows = policy.act(obs, masks=masks)
        for env, row in enumerate(rows):
            for h, choice in enumerate(row):
                assert masks[env, offsets[h] + choice], (heads[h], masks[env])
        locked += int((masks[:, offsets[stop] : offsets[stop + 1]].sum(axis=1) == 1).sum())
        # random actions keep positions opening and closing, so locked states come up
        actions = {h: rng.integers(0, n, size=4) for h, n in zip(heads, sizes, strict=True)}
        obs, *_ = venv.step(actions)
    assert locked > 0  # the masks were not all-true: the check above constrained something
