"""SB3 ``VecEnv`` adapter for a Gymnasium ``VectorEnv`` (tradecore's numpy-batched env, or any other).

SB3 expects "same-step" auto-reset: when a sub-env finishes, ``step`` already returns its reset
observation and puts the last one in ``info["terminal_observation"]``. Gymnasium vector envs that
auto-reset on the same step (``AutoresetMode.SAME_STEP``) or not at all (``DISABLED``, reset
through ``reset_mask``) are adapted exactly; ``NEXT_STEP`` envs cannot be and are refused.

A ``Dict`` action space of ``Discrete`` heads is exposed to SB3 as ``MultiDiscrete`` (heads in the
Dict's key order), or as one ``Discrete`` product for DQN (see :class:`~tradecore_sb3.policy.ActionCodec`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn

from tradecore.api import TradecoreError
from tradecore_sb3.policy import ActionCodec


class CodecActions(gym.ActionWrapper):
    """Single-env form of the same action mapping (for SB3's Dummy and Subproc vector envs)."""

    def __init__(self, env: gym.Env, codec: ActionCodec) -> None:
        super().__init__(env)
        self.codec = codec
        self.action_space = codec.sb3_space

    def action(self, action: Any) -> Any:
        batched = self.codec.to_env(np.asarray(action)[None])
        if isinstance(batched, dict):
            return {k: int(v[0]) for k, v in batched.items()}
        return batched[0]  # a Box row, or a MultiDiscrete row of indices

    def action_masks(self) -> np.ndarray:
        return np.asarray(self.env.unwrapped.action_masks())


class GymnasiumVecEnv(VecEnv):
    """Presents a ``gymnasium.vector.VectorEnv`` to Stable-Baselines3."""

    def __init__(self, venv: gym.vector.VectorEnv, codec: ActionCodec) -> None:
        mode = venv.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if isinstance(mode, str):
            mode = AutoresetMode(mode)
        if mode == AutoresetMode.NEXT_STEP:
            raise TradecoreError(
                "the vector env auto-resets on the next step, which SB3 cannot use; build it with "
                "autoreset_mode=AutoresetMode.SAME_STEP (or DISABLED)"
            )
        self.venv = venv
        self.mode = mode
        self.codec = codec
        super().__init__(venv.num_envs, venv.single_observation_space, codec.sb3_space)
        self._actions: np.ndarray | None = None
        self._dict_obs = isinstance(venv.single_observation_space, gym.spaces.Dict)

    # -- the core of the VecEnv API ------------------------------------------------------------------
    def reset(self) -> Any:
        seeds = [s for s in self._seeds if s is not None]
        seed = self._seeds if len(seeds) == self.num_envs else (seeds[0] if seeds else None)
        options = self._options[0] or None
        obs, info = self.venv.reset(seed=seed, options=options)
        self.reset_infos = self._split_info(info)
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        actions = self.codec.to_env(self._actions)
        obs, rewards, terminated, truncated, info = self.venv.step(actions)
        dones = np.logical_or(terminated, truncated)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if dones.any():
            done_idx = np.flatnonzero(dones)
            if self.mode == AutoresetMode.SAME_STEP:
                final_obs = info.get("final_obs")
                for i in done_idx:
                    infos[i]["terminal_observation"] = self._pick(final_obs, i) if final_obs is not None else None
            else:  # DISABLED: keep the terminal obs, reset just the finished sub-envs
                for i in done_idx:
                    infos[i]["terminal_observation"] = self._pick(obs, i)
                obs, _ = self.venv.reset(options={"reset_mask": dones})
            for i in done_idx:
                infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        return obs, np.asarray(rewards, dtype=np.float32), dones, infos

    def _pick(self, batch: Any, i: int) -> Any:
        """Sub-env ``i`` of a batched (or object-array) observation, as a copy."""
        if isinstance(batch, dict):
            return {k: np.array(v[i]) for k, v in batch.items()}
        item = batch[i]
        if isinstance(item, dict):
            return {k: np.array(v) for k, v in item.items()}
        return np.array(item)

    def _split_info(self, info: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for key, values in info.items():
            if key.startswith("_") or isinstance(values, dict):
                continue
            mask = info.get(f"_{key}")
            for i in range(self.num_envs):
                if mask is None or mask[i]:
                    try:
                        out[i][key] = values[i]
                    except (TypeError, IndexError):
                        break
        return out

    def close(self) -> None:
        self.venv.close()

    # -- attribute plumbing SB3 uses (action masks, wrappers) -----------------------------------------
    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        idx = list(self._get_indices(indices))
        if hasattr(self.venv, "get_attr"):
            try:
                values = self.venv.get_attr(attr_name)
                return [values[i] for i in idx]
            except AttributeError:
                pass
        return [getattr(self.venv, attr_name)] * len(idx)

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        if hasattr(self.venv, "set_attr"):
            self.venv.set_attr(attr_name, value)
        else:
            setattr(self.venv, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        idx = list(self._get_indices(indices))
        batched = getattr(self.venv, method_name, None)
        if callable(batched):  # a batched method, e.g. action_masks() -> (num_envs, n)
            result = batched(*method_args, **method_kwargs)
            return [result[i] for i in idx]
        results = self.venv.call(method_name, *method_args, **method_kwargs)
        return [results[i] for i in idx]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None] * self.num_envs
