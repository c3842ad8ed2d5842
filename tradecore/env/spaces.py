"""A Gymnasium space in one short line, for messages and for checking a saved model against an env."""

from __future__ import annotations

import gymnasium as gym


def describe_space(space: gym.Space) -> str:
    """``{market: Box(16, 5), account: Box(7,)}``, ``MultiDiscrete[3, 2]``, ``Discrete(3)``: stable across
    numpy versions (plain ints), so two descriptions compare equal when the spaces match."""
    if isinstance(space, gym.spaces.Dict):
        return "{" + ", ".join(f"{k}: {describe_space(v)}" for k, v in space.spaces.items()) + "}"
    if isinstance(space, gym.spaces.Box):
        return f"Box{tuple(space.shape)}"
    if isinstance(space, gym.spaces.MultiDiscrete):
        return f"MultiDiscrete{[int(n) for n in space.nvec]}"
    if isinstance(space, gym.spaces.Discrete):
        return f"Discrete({space.n})"
    return str(space)
