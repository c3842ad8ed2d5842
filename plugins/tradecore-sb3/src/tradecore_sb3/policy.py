"""A trained SB3 model as a tradecore evaluation policy: batched, deterministic, in the env's own action format.

Models and VecNormalize statistics are pickles: loading one runs code from the file. The core
refuses files outside the user's run folders unless they pass ``--trust-model``; this module only
loads what it is handed.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from tradecore.api import TradecoreError, describe_space

#: objects not to unpickle from a saved model (training-only callables; avoids version mismatches)
CUSTOM_OBJECTS = {
    "learning_rate": 0.0,
    "lr_schedule": lambda _: 0.0,
    "clip_range": lambda _: 0.0,
    "clip_range_vf": None,
    "exploration_schedule": lambda _: 0.0,
}


def algo_class(name: str) -> Any:
    if name in ("PPO", "A2C", "DQN", "SAC", "TD3"):
        import stable_baselines3

        return getattr(stable_baselines3, name)
    import sb3_contrib

    return getattr(sb3_contrib, name)


def spaces_match(a: gym.Space, b: gym.Space) -> bool:
    if isinstance(a, gym.spaces.Dict) and isinstance(b, gym.spaces.Dict):
        return list(a.spaces) == list(b.spaces) and all(spaces_match(a[k], b[k]) for k in a.spaces)
    if isinstance(a, gym.spaces.Box) and isinstance(b, gym.spaces.Box):
        return a.shape == b.shape
    if isinstance(a, gym.spaces.MultiDiscrete) and isinstance(b, gym.spaces.MultiDiscrete):
        return list(a.nvec) == list(b.nvec)
    if isinstance(a, gym.spaces.Discrete) and isinstance(b, gym.spaces.Discrete):
        return a.n == b.n
    return type(a) is type(b)


class ActionCodec:
    """Maps SB3 actions (MultiDiscrete rows, a Discrete product index, or a Box) to the env's format: a Dict of
    Discrete heads, a MultiDiscrete row or a Box."""

    def __init__(self, env_space: gym.Space, algo: str) -> None:
        self.env_space = env_space
        self.heads: list[str] | None = None
        self.product = algo == "DQN"
        #: a MultiDiscrete env space (e.g. a portfolio's weight bucket per asset): rows of indices
        self.multi = isinstance(env_space, gym.spaces.MultiDiscrete) and env_space.nvec.ndim == 1
        if isinstance(env_space, gym.spaces.Dict) or self.multi:
            if self.multi:
                self.nvec = [int(n) for n in env_space.nvec]
            else:
                self.heads = list(env_space.spaces)
                self.nvec = [int(env_space.spaces[h].n) for h in self.heads]
            self.sb3_space: gym.Space = (
                gym.spaces.Discrete(int(np.prod(self.nvec))) if self.product else gym.spaces.MultiDiscrete(self.nvec)
            )
        elif isinstance(env_space, gym.spaces.Box):
            if self.product:
                raise TradecoreError(
                    "trainer.params.algo: DQN needs discrete actions; set env.action_mode to discrete or use SAC/TD3"
                )
            self.sb3_space = env_space
        else:
            raise TradecoreError(f"unsupported action space {describe_space(env_space)}")

    @property
    def discrete(self) -> bool:
        return self.heads is not None or self.multi

    def to_env(self, actions: np.ndarray) -> Any:
        """Batched SB3 actions -> batched env actions."""
        if not self.discrete:
            return np.asarray(actions, dtype=np.float32)
        rows = self.to_rows(actions)
        if self.multi:
            return rows
        return {h: np.ascontiguousarray(rows[:, i]) for i, h in enumerate(self.heads)}

    def to_rows(self, actions: np.ndarray) -> np.ndarray:
        """Batched SB3 actions -> one row per env: head indices in head order, or the Box action."""
        if not self.discrete:
            return np.asarray(actions, dtype=np.float32).reshape(len(actions), -1)
        actions = np.asarray(actions)
        if self.product:
            return np.stack(np.unravel_index(actions.reshape(-1), self.nvec), axis=1).astype(np.int64)
        return actions.reshape(-1, len(self.nvec)).astype(np.int64)


class SB3Policy:
    """Deterministic batched actions of a saved SB3 model, with its VecNormalize observation statistics."""

    def __init__(self, model: Any, algo: str, codec: ActionCodec, obs_stats: Any | None) -> None:
        self.model = model
        self.algo = algo
        self.codec = codec
        self.obs_stats = obs_stats
        self.recurrent = algo == "RecurrentPPO"
        self.maskable = algo == "MaskablePPO"
        self.wants_masks = self.maskable
        self._state: Any = None
        self._starts: np.ndarray | None = None

    def reset(self, num_envs: int) -> None:
        self._state = None
        self._starts = np.ones(num_envs, dtype=bool)

    def act(self, obs: Any, *, masks: np.ndarray | None = None, bars: np.ndarray | None = None) -> np.ndarray:
        """Deterministic actions for a batch of observations, one row per env (see ActionCodec.to_rows)."""
        if self.obs_stats is not None:
            obs = self.obs_stats.normalize_obs(obs)
        if self.recurrent:
            actions, self._state = self.model.predict(
                obs, state=self._state, episode_start=self._starts, deterministic=True
            )
            self._starts[:] = False
        elif self.maskable and masks is not None:
            actions, _ = self.model.predict(obs, deterministic=True, action_masks=masks)
        else:
            actions, _ = self.model.predict(obs, deterministic=True)
        return self.codec.to_rows(actions)


def load_obs_stats(path: Path) -> Any | None:
    """The VecNormalize object saved next to a model (its obs statistics; reward scaling is not used)."""
    if not path.is_file():
        return None
    with path.open("rb") as fh:
        stats = pickle.load(fh)  # noqa: S301 - the caller has checked the file is trusted
    stats.training = False
    stats.norm_reward = False
    return stats


def load_policy(
    model_path: Path,
    algo: str,
    observation_space: gym.Space,
    action_space: gym.Space,
    vecnormalize_path: Path | None = None,
) -> SB3Policy:
    """Load a model for evaluation and check it fits the env it will act in."""
    if not model_path.is_file():
        raise TradecoreError(f"model file {model_path} does not exist")
    codec = ActionCodec(action_space, algo)
    try:
        model = algo_class(algo).load(model_path, device="cpu", custom_objects=CUSTOM_OBJECTS)
    except (ValueError, KeyError, OSError, pickle.UnpicklingError, EOFError) as exc:
        raise TradecoreError(f"cannot load {algo} model {model_path}: {exc}") from None
    if not spaces_match(model.observation_space, observation_space):
        raise TradecoreError(
            f"model {model_path.name} was trained on observations {describe_space(model.observation_space)} "
            f"but this env gives {describe_space(observation_space)}; evaluate with the run's own window, "
            "indicators and action settings"
        )
    if not spaces_match(model.action_space, codec.sb3_space):
        raise TradecoreError(
            f"model {model_path.name} acts in {describe_space(model.action_space)} but this env needs "
            f"{describe_space(codec.sb3_space)}; evaluate with the run's own action settings"
        )
    stats = load_obs_stats(vecnormalize_path) if vecnormalize_path else None
    return SB3Policy(model, algo, codec, stats)
