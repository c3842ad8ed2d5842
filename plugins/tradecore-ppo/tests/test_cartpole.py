"""The algorithm, not just the env: PPO solves CartPole-v1 in about as many steps as CleanRL's PPO.

CleanRL's ppo.py (4 envs x 128 steps, 4 epochs x 4 minibatches, lr 2.5e-4 annealed, ent 0.01) reaches
the solved score (475) around 150k-250k steps; with those settings this module solved it at 204k
steps (seed 1). Here the same 512-transition rollouts come from 16 envs x 32 steps, which is faster
in wall time; the budget is CleanRL's scale, 250k steps.
"""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.slow
def test_solves_cartpole_in_cleanrl_like_steps():
    import gymnasium as gym
    import torch
    from gymnasium.vector import AutoresetMode
    from tradecore_ppo.params import PPOParams
    from tradecore_ppo.ppo import PPO

    torch.set_num_threads(1)
    envs = gym.make_vec(
        "CartPole-v1",
        num_envs=16,
        vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
    )
    params = PPOParams(
        n_envs=16,
        n_steps=32,
        n_epochs=4,
        n_minibatches=4,
        learning_rate={"schedule": "linear", "initial": 2.5e-4, "final": 0.0},
        ent_coef=0.01,
        vf_coef=0.25,  # CleanRL halves its squared error; this module does not (SB3's convention)
        total_timesteps=500_000,
    )
    ppo = PPO(envs, params, seed=1)
    solved_at = None
    for stats in ppo.train(250_000):
        recent = list(ppo.episode_returns)[-20:]
        if len(recent) == 20 and np.mean(recent) >= 475:
            solved_at = stats.timesteps
            break
    envs.close()
    assert solved_at is not None, f"not solved in 250k steps; last 20 episodes average {np.mean(recent):.0f}"
