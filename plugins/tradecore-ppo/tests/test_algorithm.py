"""The algorithm module on tradecore's batched env: masks, GAE, determinism, Adam, continuous actions."""

from __future__ import annotations

import numpy as np
import pytest
import torch


def _ppo(experiment, seed=0, masks=True, **overrides):
    from tradecore_ppo.params import PPOParams
    from tradecore_ppo.ppo import PPO

    params = PPOParams(**{"n_envs": 8, "n_steps": 16, "n_epochs": 2, "n_minibatches": 2, **overrides})
    venv = experiment.make_vec_env("train", params.n_envs, seed=seed)
    return PPO(venv, params, seed=seed, action_masks=venv.action_masks if masks else None)


def test_sampled_actions_respect_the_env_masks(tiny_manifest, make_experiment):
    _, experiment = make_experiment(tiny_manifest)
    ppo = _ppo(experiment, n_steps=64)
    next(ppo.train(ppo.params.rollout_size))
    r = ppo.rollout
    offsets = np.cumsum([0, *ppo.heads.nvec[:-1]])
    flat_choice = r.actions + torch.as_tensor(offsets)  # index of each chosen action in the concatenated masks
    allowed = r.masks.gather(-1, flat_choice)
    assert allowed.all()
    # the stop-loss head is locked while a position is open: those steps had exactly one choice
    locked = r.masks[..., offsets[2] : offsets[2] + 2].sum(-1) == 1
    assert locked.any() and (~locked).any()


def test_a_mask_allowing_one_choice_forces_it(tiny_manifest, make_experiment):
    _, experiment = make_experiment(tiny_manifest)
    ppo = _ppo(experiment)
    width = sum(ppo.heads.nvec)
    only_flat = np.ones((ppo.n_envs, width), dtype=bool)
    only_flat[:, 1:3] = False  # direction head: only index 0 (flat)
    ppo.action_masks = lambda: only_flat
    next(ppo.train(ppo.params.rollout_size))
    assert (ppo.rollout.actions[..., 0] == 0).all()
    assert ppo.rollout.actions[..., 1].unique().numel() == 2  # other heads still sample


def test_gae_matches_the_textbook_recursion():
    import gymnasium as gym
    from tradecore_ppo.ppo import ActionHeads, Rollout, compute_gae

    steps, envs, gamma, lam = 7, 3, 0.9, 0.8
    r = Rollout(steps, envs, 2, ActionHeads(gym.spaces.Discrete(2)), 0, torch.device("cpu"))
    g = torch.Generator().manual_seed(0)
    r.rewards.copy_(torch.randn(steps, envs, generator=g))
    r.values.copy_(torch.randn(steps, envs, generator=g))
    r.ends.copy_((torch.rand(steps, envs, generator=g) < 0.3).float())
    next_value = torch.randn(envs, generator=g)
    compute_gae(r, next_value, gamma, lam)
    for e in range(envs):
        advantage = 0.0
        for t in reversed(range(steps)):
            following = float(next_value[e]) if t == steps - 1 else float(r.values[t + 1, e])
            keep = 1.0 - float(r.ends[t, e])
            delta = float(r.rewards[t, e]) + gamma * following * keep - float(r.values[t, e])
            advantage = delta + gamma * lam * keep * advantage
            assert float(r.advantages[t, e]) == pytest.approx(advantage, abs=1e-5)
    torch.testing.assert_close(r.returns, r.advantages + r.values)


def test_same_seed_same_numbers_other_seed_other_numbers(tiny_manifest, make_experiment):
    _, experiment = make_experiment(tiny_manifest)

    def weights_after_two_updates(seed):
        ppo = _ppo(experiment, seed=seed)
        stats = list(ppo.train(2 * ppo.params.rollout_size))
        return torch.cat([p.detach().reshape(-1) for p in ppo.agent.parameters()]), stats

    first, stats_a = weights_after_two_updates(5)
    again, stats_b = weights_after_two_updates(5)
    other, _ = weights_after_two_updates(6)
    assert torch.equal(first, again) and stats_a == stats_b
    assert not torch.equal(first, other)


def test_adam_computes_what_torch_optim_adam_computes():
    from tradecore_ppo.ppo import Adam

    torch.manual_seed(0)
    ours, theirs = torch.nn.Linear(5, 3), torch.nn.Linear(5, 3)
    theirs.load_state_dict(ours.state_dict())
    mine = Adam(list(ours.parameters()), lr=1e-2, eps=1e-5)
    reference = torch.optim.Adam(theirs.parameters(), lr=1e-2, eps=1e-5)
    for _ in range(5):
        x = torch.randn(16, 5)
        for model, opt in ((ours, mine), (theirs, reference)):
            opt.zero_grad()
            model(x).square().mean().backward()
            opt.step()
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b)


def test_continuous_actions_train_and_act_in_the_box(tiny_manifest, make_experiment):
    from tradecore_ppo.policy import FastPolicy

    tiny_manifest["env"]["action_mode"] = "continuous"
    _, experiment = make_experiment(tiny_manifest)
    ppo = _ppo(experiment, masks=False)
    assert ppo.heads.continuous and ppo.rollout.masks is None
    stats = list(ppo.train(2 * ppo.params.rollout_size))
    assert len(stats) == 2 and np.isfinite(stats[-1].policy_loss)
    policy = FastPolicy(ppo.agent, ppo.obs_layout, ppo.heads, use_masks=True)
    assert not policy.wants_masks
    obs, _ = experiment.make_vec_env("validation", 4, seed=0).reset(seed=0)
    actions = policy.act(obs)
    assert actions.shape == (4, ppo.heads.dim) and actions.dtype == np.float32
    assert (np.abs(actions) <= 1).all()


def test_time_limit_truncation_bootstraps_from_the_final_observation(tiny_manifest, make_experiment):
    # 48-step episodes and 16-step rollouts: the 3rd rollout's last step truncates every env at once
    _, experiment = make_experiment(tiny_manifest)
    ppo = _ppo(experiment)
    runs = ppo.train(3 * ppo.params.rollout_size)
    next(runs), next(runs)
    original = ppo.envs.step
    raw = []

    def keep_raw_reward(actions):
        out = original(actions)
        raw.append(np.array(out[1], dtype=np.float32))
        return out

    ppo.envs.step = keep_raw_reward
    next(runs)
    r = ppo.rollout
    assert r.ends[-1].all() and not r.ends[:-1].any()
    with torch.no_grad():
        bootstrap = r.rewards[-1] - torch.from_numpy(raw[-1])
    assert (bootstrap != 0).all()  # gamma * V(final obs) added to every truncated env's last reward
    torch.testing.assert_close(r.rewards[:-1], torch.from_numpy(np.stack(raw[:-1])))


def test_the_sigmoid_tanh_matches_torch_tanh_in_value_and_gradient():
    from tradecore_ppo.ppo import Tanh

    x = torch.linspace(-12, 12, 2001, dtype=torch.float64, requires_grad=True)
    y = Tanh()(x)
    (grad,) = torch.autograd.grad(y.sum(), x)
    reference = torch.tanh(x.detach())
    torch.testing.assert_close(y.detach(), reference, atol=1e-12, rtol=0)
    torch.testing.assert_close(grad, 1 - reference**2, atol=1e-12, rtol=0)
    with torch.no_grad():  # acting takes the path without the autograd Function
        torch.testing.assert_close(Tanh()(x), reference, atol=1e-12, rtol=0)


def test_the_narrow_log_softmax_matches_torch_with_masked_choices():
    from tradecore_ppo.ppo import MASKED_LOGIT, log_softmax_narrow

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(64, 4, 3, generator=g, dtype=torch.float64) * 30
    logits[:, 1:, 2] = MASKED_LOGIT  # padding of the two-choice heads
    logits[::2, 0, 1] = MASKED_LOGIT  # a masked choice
    logits.requires_grad_(True)
    ours, theirs = log_softmax_narrow(logits), logits.log_softmax(-1)
    torch.testing.assert_close(ours, theirs)
    weights = torch.randn(64, 4, 3, generator=g, dtype=torch.float64)
    (ours_grad,) = torch.autograd.grad((ours * weights).sum(), logits)
    (theirs_grad,) = torch.autograd.grad((theirs * weights).sum(), logits)
    torch.testing.assert_close(ours_grad, theirs_grad)
