"""Model files of ``ppo-fast`` and the evaluation policy they load into.

A model file is a ``torch.save`` dict of tensors and plain values (weights, the architecture, the
spaces it was trained on, and for checkpoints the optimiser and sampler state), read back with
``torch.load(weights_only=True)``: loading one never runs code from the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from tradecore.api import TradecoreError, describe_space
from tradecore_ppo.ppo import PPO, ActionHeads, Agent, ObsLayout

FORMAT = "tradecore-ppo/1"


def save_model(path: Path, ppo: PPO, *, training_state: bool) -> None:
    """Write the agent (and, for a checkpoint, everything ``PPO.load_state_dict`` needs) to ``path``."""
    p = ppo.params
    pi, vf = p.hidden_layers()
    record: dict[str, Any] = {
        "format": FORMAT,
        "timesteps": ppo.global_step,
        "observation_space": describe_space(ppo.envs.single_observation_space),
        "action_space": describe_space(ppo.envs.single_action_space),
        "net": {"pi": pi, "vf": vf, "activation": p.activation_fn},
        "agent": {k: v.detach().cpu() for k, v in ppo.agent.state_dict().items()},
    }
    if training_state:
        state = ppo.state_dict()
        record["training"] = {k: v for k, v in state.items() if k != "agent"}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.tmp")
    torch.save(record, partial)
    partial.replace(path)  # a crash mid-write leaves the previous file whole


def read_model(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise TradecoreError(f"model file {path} does not exist")
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same one-line error
        raise TradecoreError(f"cannot load ppo-fast model {path}: {str(exc).splitlines()[0]}") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise TradecoreError(f"{path} is not a ppo-fast model file ({FORMAT}); was it saved by another trainer?")
    return record


class FastPolicy:
    """Deterministic batched actions of a trained agent, in the env's action rows (see the ``Policy`` protocol)."""

    def __init__(self, agent: Agent, obs_layout: ObsLayout, heads: ActionHeads, use_masks: bool) -> None:
        self.agent = agent
        self.device = next(agent.parameters()).device
        self.obs_layout = obs_layout
        self.heads = heads
        #: tradecore's evaluation passes the env's action masks when this is true
        self.wants_masks = use_masks and not heads.continuous

    def reset(self, num_envs: int) -> None:
        """Nothing to forget: the policy has no recurrent state."""

    @torch.inference_mode()
    def act(self, obs: Any, *, masks: np.ndarray | None = None, bars: np.ndarray | None = None) -> np.ndarray:
        n = len(obs[self.obs_layout.keys[0]]) if self.obs_layout.keys else len(obs)
        x = torch.empty((n, self.obs_layout.size), dtype=torch.float32, device=self.device)
        self.obs_layout.write(obs, x)
        mask = None
        if masks is not None and self.wants_masks:
            mask = torch.from_numpy(np.asarray(masks, dtype=bool)).to(self.device)
        actions = self.agent.best(x, mask).cpu().numpy()
        if self.heads.continuous:
            return np.clip(actions, self.heads.low, self.heads.high).astype(np.float32)
        return actions.astype(np.int64)


def load_policy(path: Path, observation_space: gym.Space, action_space: gym.Space, use_masks: bool) -> FastPolicy:
    """The policy in ``path``, checked against the spaces of the env it will act in."""
    record = read_model(path)
    if record["observation_space"] != describe_space(observation_space):
        raise TradecoreError(
            f"model {path.name} was trained on observations {record['observation_space']} but this env gives "
            f"{describe_space(observation_space)}; evaluate with the run's own window, indicators and observation"
        )
    if record["action_space"] != describe_space(action_space):
        raise TradecoreError(
            f"model {path.name} acts in {record['action_space']} but this env needs "
            f"{describe_space(action_space)}; evaluate with the run's own action settings"
        )
    obs_layout, heads = ObsLayout(observation_space), ActionHeads(action_space)
    net = record["net"]
    agent = Agent(obs_layout.size, heads, list(net["pi"]), list(net["vf"]), net["activation"])
    agent.load_state_dict(record["agent"])
    return FastPolicy(agent, obs_layout, heads, use_masks)
