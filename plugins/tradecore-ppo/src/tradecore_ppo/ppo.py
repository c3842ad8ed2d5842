"""Proximal Policy Optimisation over a batched Gymnasium vector env, in one readable module (CleanRL's shape).

One iteration:

1. **Collect** ``n_steps`` transitions from all ``n_envs`` envs at once into preallocated tensors. The
   env's numpy outputs are viewed as tensors (``torch.from_numpy``: no copy) and copied once, into the
   rollout slot they belong to; the policy acts on that slot. Every action head is sampled in one
   call (Gumbel-max over a padded ``(envs, heads, choices)`` grid), with the env's action masks
   applied as ``-1e9`` logits.
2. **Advantages** by GAE (Schulman et al. 2016), vectorised over envs, one pass backwards in time.
   An episode cut by a time limit (``truncated``) is not a real end: its last reward gets
   ``gamma * V(final observation)`` added, as Stable-Baselines3 does.
3. **Update**: ``n_epochs`` passes over the shuffled rollout in ``n_minibatches`` minibatches, with the
   clipped surrogate objective, an (optionally clipped) value loss, an entropy bonus, gradient-norm
   clipping, and an early stop once the approximate KL passes ``1.5 * target_kl``.

Works with any ``gymnasium.vector.VectorEnv`` whose envs auto-reset on the same step
(``AutoresetMode.SAME_STEP``: tradecore's ``BatchedTradingEnv``; ``gym.make_vec(...,
vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP})``), with ``Box`` or ``Dict``-of-``Box``
observations and ``Discrete``, ``MultiDiscrete``, ``Dict``-of-``Discrete`` or ``Box`` actions.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from torch import nn

from tradecore_ppo.params import PPOParams

#: the logit a masked choice gets: exp() underflows to exactly 0, and 0 * logit stays finite in the entropy
MASKED_LOGIT = -1e9


# -- observations and actions as tensors ----------------------------------------------------------------
class ObsLayout:
    """``Box`` or ``Dict``-of-``Box`` observations as one float32 row per env (Dict keys in the space's order)."""

    def __init__(self, space: gym.Space) -> None:
        if isinstance(space, gym.spaces.Box):
            self.keys: list[str] | None = None
            self.size = int(np.prod(space.shape))
        elif isinstance(space, gym.spaces.Dict) and all(isinstance(s, gym.spaces.Box) for s in space.spaces.values()):
            self.keys = list(space.spaces)
            sizes = [int(np.prod(space.spaces[k].shape)) for k in self.keys]
            self.slices = [slice(a, a + n) for a, n in zip(np.cumsum([0, *sizes[:-1]]).tolist(), sizes)]
            self.size = sum(sizes)
        else:
            raise ValueError(f"observations must be a Box or a Dict of Boxes, not {space}")

    def write(self, obs: Any, out: torch.Tensor) -> None:
        """Copy a batch of env observations into ``out`` (``(n, size)``), viewing the numpy arrays in place."""
        n = out.shape[0]
        if self.keys is None:
            out.copy_(torch.from_numpy(np.asarray(obs)).reshape(n, -1))
            return
        for key, part in zip(self.keys, self.slices):
            out[:, part].copy_(torch.from_numpy(np.asarray(obs[key])).reshape(n, -1))

    def stack(self, items: list[Any], device: torch.device) -> torch.Tensor:
        """Single-env observations (e.g. ``final_obs`` entries) as one ``(len(items), size)`` tensor."""
        out = torch.empty((len(items), self.size), dtype=torch.float32, device=device)
        if self.keys is None:
            self.write(np.stack(items), out)
        else:
            self.write({k: np.stack([item[k] for item in items]) for k in self.keys}, out)
        return out


class ActionHeads:
    """The env's action space as policy outputs: categorical heads, or one diagonal Gaussian for ``Box``.

    ``Discrete`` is one head, ``MultiDiscrete`` and ``Dict``-of-``Discrete`` one head per entry (Dict
    keys in the space's order, which is also the order of the env's concatenated action masks).
    """

    def __init__(self, space: gym.Space) -> None:
        self.space = space
        self.keys: list[str] | None = None
        self.continuous = isinstance(space, gym.spaces.Box)
        if self.continuous:
            self.nvec: list[int] = []
            self.dim = int(np.prod(space.shape))
            self.low, self.high = space.low.reshape(-1), space.high.reshape(-1)
        elif isinstance(space, gym.spaces.Discrete):
            self.nvec = [int(space.n)]
        elif isinstance(space, gym.spaces.MultiDiscrete) and space.nvec.ndim == 1:
            self.nvec = [int(n) for n in space.nvec]
        elif isinstance(space, gym.spaces.Dict) and all(
            isinstance(s, gym.spaces.Discrete) for s in space.spaces.values()
        ):
            self.keys = list(space.spaces)
            self.nvec = [int(space.spaces[k].n) for k in self.keys]
        else:
            raise ValueError(f"actions must be Discrete, MultiDiscrete, a Dict of Discrete or a Box, not {space}")
        if not self.continuous:
            self.dim = len(self.nvec)

    @property
    def n_outputs(self) -> int:
        """Actor outputs: one logit per choice of every head, or one mean per Box dimension."""
        return self.dim if self.continuous else sum(self.nvec)

    @property
    def dtype(self) -> torch.dtype:
        return torch.float32 if self.continuous else torch.int64

    def to_env(self, actions: torch.Tensor) -> Any:
        """A batch of sampled actions (``(n, dim)``) in the env's own format."""
        rows = actions.cpu().numpy()
        if self.continuous:
            return np.clip(rows, self.low, self.high).reshape((len(rows), *self.space.shape))
        if isinstance(self.space, gym.spaces.Discrete):
            return rows[:, 0]
        if self.keys is not None:
            return {key: rows[:, i] for i, key in enumerate(self.keys)}
        return rows


# -- the actor-critic ------------------------------------------------------------------------------------
def layer_init(layer: nn.Linear, gain: float = math.sqrt(2), bias: float = 0.0) -> nn.Linear:
    """Orthogonal weights, constant bias: the initialisation PPO implementations share (Engstrom et al. 2020)."""
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.constant_(layer.bias, bias)
    return layer


def sigmoid_tanh(x: torch.Tensor) -> torch.Tensor:
    return torch.mul(x, 2).sigmoid_().mul_(2).sub_(1)


class SigmoidTanh(torch.autograd.Function):
    """``tanh(x)`` computed as ``2 * sigmoid(2x) - 1`` (within 2e-7 of ``torch.tanh``).

    torch's CPU tanh kernel is the single most expensive op of a small-MLP PPO update (3-4x the cost
    of its sigmoid kernel); the backward reuses the output, exactly as tanh's own: ``g * (1 - y^2)``.
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        y = sigmoid_tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (y,) = ctx.saved_tensors
        return torch.ops.aten.tanh_backward(grad, y)


class Tanh(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # acting (no graph) skips the autograd Function's bookkeeping, a third of the op's cost on 256 rows
        return SigmoidTanh.apply(x) if torch.is_grad_enabled() else sigmoid_tanh(x)


def mlp(inputs: int, hidden: list[int], outputs: int, activation: str, out_gain: float) -> nn.Sequential:
    act = {"tanh": Tanh, "relu": nn.ReLU}[activation]
    layers: list[nn.Module] = []
    for size in hidden:
        layers += [layer_init(nn.Linear(inputs, size)), act()]
        inputs = size
    layers.append(layer_init(nn.Linear(inputs, outputs), gain=out_gain))
    return nn.Sequential(*layers)


class Agent(nn.Module):
    """Separate actor and critic MLPs (Stable-Baselines3's and CleanRL's default layout)."""

    def __init__(
        self,
        obs_size: int,
        heads: ActionHeads,
        pi: list[int],
        vf: list[int],
        activation: str = "tanh",
        log_std_init: float = 0.0,
    ) -> None:
        super().__init__()
        self.heads = heads
        self.critic = mlp(obs_size, vf, 1, activation, out_gain=1.0)
        self.actor = mlp(obs_size, pi, heads.n_outputs, activation, out_gain=0.01)
        if heads.continuous:
            self.log_std = nn.Parameter(torch.full((heads.dim,), float(log_std_init)))
        else:
            # which actor output fills each cell of a (heads, widest head) grid; padding cells read the
            # extra masked column appended after the outputs
            widest, pad = max(heads.nvec), heads.n_outputs
            offsets = np.cumsum([0, *heads.nvec[:-1]]).tolist()
            source = [o + j if j < n else pad for o, n in zip(offsets, heads.nvec) for j in range(widest)]
            self.register_buffer("grid_source", torch.tensor(source, dtype=torch.int64), persistent=False)
            self.grid_shape = (len(heads.nvec), widest)

    def value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x).squeeze(-1)

    def logits(self, x: torch.Tensor, masks: torch.Tensor | None) -> torch.Tensor:
        """Categorical heads: ``(n, heads, widest)`` logits, masked and padded choices at -1e9."""
        flat = self.actor(x)
        if masks is not None:
            flat = flat.masked_fill(~masks, MASKED_LOGIT)
        padded = torch.cat([flat, flat.new_full((flat.shape[0], 1), MASKED_LOGIT)], dim=1)
        return padded.index_select(1, self.grid_source).view(-1, *self.grid_shape)

    def log_probs(self, x: torch.Tensor, masks: torch.Tensor | None) -> torch.Tensor:
        return log_softmax_narrow(self.logits(x, masks))

    def sample(
        self, x: torch.Tensor, masks: torch.Tensor | None, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(actions, their log-probability summed over heads, value) for a batch of observations."""
        if self.heads.continuous:
            mean, std = self.actor(x), self.log_std.exp()
            noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
            actions = mean + std * noise
            return actions, gaussian_log_prob(actions, mean, self.log_std), self.value(x)
        logp = self.log_probs(x, masks)
        # Gumbel-max: argmax(log p - log E), E ~ Exp(1), draws every head of every env in one call
        exp_noise = torch.empty_like(logp).exponential_(generator=generator)
        actions = (logp - exp_noise.log()).argmax(-1)
        chosen = logp.gather(-1, actions.unsqueeze(-1)).squeeze(-1).sum(-1)
        return actions, chosen, self.value(x)

    def evaluate(
        self, x: torch.Tensor, actions: torch.Tensor, masks: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(log-probability of ``actions``, entropy, value) under the current weights."""
        if self.heads.continuous:
            mean = self.actor(x)
            entropy = (0.5 + 0.5 * math.log(2 * math.pi) + self.log_std).sum().expand(len(x))
            return gaussian_log_prob(actions, mean, self.log_std), entropy, self.value(x)
        logp = self.log_probs(x, masks)
        chosen = logp.gather(-1, actions.unsqueeze(-1)).squeeze(-1).sum(-1)
        entropy = -(logp.exp() * logp).sum((-1, -2))
        return chosen, entropy, self.value(x)

    def best(self, x: torch.Tensor, masks: torch.Tensor | None) -> torch.Tensor:
        """Deterministic actions: the most likely choice per head, or the Gaussian's mean."""
        if self.heads.continuous:
            return self.actor(x)
        return self.logits(x, masks).argmax(-1)


def log_softmax_narrow(logits: torch.Tensor) -> torch.Tensor:
    """``logits.log_softmax(-1)`` for a last axis of a few choices, one column at a time.

    torch's softmax kernels vectorise along the reduced axis, so 2-3 choices per head leave them
    mostly idle; elementwise ops over the columns do the same arithmetic several times faster.
    """
    columns = logits.detach().unbind(-1)
    top = columns[0]
    for column in columns[1:]:
        top = torch.maximum(top, column)
    shifted = logits - top.unsqueeze(-1)  # the max is a constant shift: no gradient flows through it
    exps = shifted.exp().unbind(-1)
    total = exps[0]
    for column in exps[1:]:
        total = total + column
    return shifted - total.log().unsqueeze(-1)


def gaussian_log_prob(actions: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    z = (actions - mean) * torch.exp(-log_std)
    return (-0.5 * z * z - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)


class Adam:
    """Adam (Kingma & Ba 2015), as ``torch.optim.Adam`` computes it for one parameter at a time.

    Written out because constructing any ``torch.optim`` optimiser imports ``torch._dynamo`` (1-3 s of
    start-up in torch 2.x) and because the update reads better spelled out.
    """

    def __init__(self, params: list[nn.Parameter], lr: float, betas=(0.9, 0.999), eps: float = 1e-8) -> None:
        self.params = params
        self.lr, self.betas, self.eps = lr, betas, eps
        self.steps = 0
        self.exp_avg = [torch.zeros_like(p) for p in params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        beta1, beta2 = self.betas
        step_size = self.lr / (1 - beta1**self.steps)
        bias_correction2_sqrt = math.sqrt(1 - beta2**self.steps)
        for p, m, v in zip(self.params, self.exp_avg, self.exp_avg_sq):
            if p.grad is None:
                continue
            m.lerp_(p.grad, 1 - beta1)
            v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
            denom = (v.sqrt() / bias_correction2_sqrt).add_(self.eps)
            p.addcdiv_(m, denom, value=-step_size)

    def state_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "exp_avg": list(self.exp_avg), "exp_avg_sq": list(self.exp_avg_sq)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps = int(state["steps"])
        for mine, saved in zip(self.exp_avg + self.exp_avg_sq, state["exp_avg"] + state["exp_avg_sq"]):
            mine.copy_(saved)


# -- rollout storage ---------------------------------------------------------------------------------------
class Rollout:
    """Preallocated ``(n_steps, n_envs, ...)`` tensors; ``obs[t]`` is what the policy acted on at step ``t``."""

    def __init__(self, steps: int, envs: int, obs_size: int, heads: ActionHeads, masks: int, device: torch.device):
        def zeros(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
            return torch.zeros((steps, envs, *shape), dtype=dtype, device=device)

        self.obs = zeros(obs_size)
        self.actions = zeros(heads.dim, dtype=heads.dtype)
        self.logprobs = zeros()
        self.values = zeros()
        self.rewards = zeros()
        self.ends = zeros()  # 1 where the episode ended after step t (terminated or truncated)
        self.masks = zeros(masks, dtype=torch.bool) if masks else None
        self.advantages = zeros()
        self.returns = zeros()
        # the observation (and masks) after the last step: where the next rollout starts
        self.next_obs = torch.zeros((envs, obs_size), device=device)
        self.next_masks = torch.ones((envs, masks), dtype=torch.bool, device=device) if masks else None


def compute_gae(r: Rollout, next_value: torch.Tensor, gamma: float, lam: float) -> None:
    """Generalised advantage estimates and returns, in place; one vectorised step per time step, backwards."""
    last = torch.zeros_like(next_value)
    for t in reversed(range(r.rewards.shape[0])):
        following = next_value if t == r.rewards.shape[0] - 1 else r.values[t + 1]
        keep = 1.0 - r.ends[t]
        delta = r.rewards[t] + gamma * following * keep - r.values[t]
        last = delta + gamma * lam * keep * last
        r.advantages[t] = last
    torch.add(r.advantages, r.values, out=r.returns)


# -- the algorithm -----------------------------------------------------------------------------------------
@dataclass
class UpdateStats:
    """What one iteration reports (losses averaged over the minibatches it ran)."""

    timesteps: int
    learning_rate: float
    policy_loss: float
    value_loss: float
    entropy: float
    approx_kl: float
    clip_fraction: float
    explained_variance: float
    epochs: int


class PPO:
    """PPO on a SAME_STEP-autoreset vector env; ``train()`` yields after every update.

    ``action_masks``, when given, returns the env's current ``(n_envs, sum(nvec))`` boolean masks; it
    is called once per step before acting. ``stop()`` is polled once per step: when it says so the
    rollout in progress is dropped and ``train()`` returns (the weights are those of the last update).
    """

    def __init__(
        self,
        envs: gym.vector.VectorEnv,
        params: PPOParams,
        *,
        seed: int = 0,
        device: str | torch.device = "cpu",
        action_masks: Callable[[], np.ndarray] | None = None,
    ) -> None:
        mode = envs.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if AutoresetMode(mode) != AutoresetMode.SAME_STEP:
            raise ValueError(
                f"the vector env auto-resets in mode {AutoresetMode(mode).value}; build it with "
                "autoreset_mode=AutoresetMode.SAME_STEP"
            )
        self.envs = envs
        self.params = p = params
        self.device = torch.device(device)
        self.seed = seed
        self.n_envs = envs.num_envs
        self.obs_layout = ObsLayout(envs.single_observation_space)
        self.heads = ActionHeads(envs.single_action_space)
        self.action_masks = None if self.heads.continuous else action_masks
        torch.manual_seed(seed)  # the weights' initialisation
        pi, vf = p.hidden_layers()
        self.agent = Agent(self.obs_layout.size, self.heads, pi, vf, p.activation_fn, p.log_std_init).to(self.device)
        self.optimizer = Adam(list(self.agent.parameters()), lr=p.value_at("learning_rate", 0.0), eps=1e-5)
        self.generator = torch.Generator(device=self.device)  # actions and minibatch order
        self.generator.manual_seed(seed)
        n_masks = sum(self.heads.nvec) if self.action_masks is not None else 0
        self.rollout = Rollout(p.n_steps, self.n_envs, self.obs_layout.size, self.heads, n_masks, self.device)
        self.global_step = 0
        self.episode_returns: deque[float] = deque(maxlen=100)
        self._episode_return = np.zeros(self.n_envs)
        self._started = False

    # -- state (checkpoints) ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "global_step": self.global_step,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.agent.load_state_dict(state["agent"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        self.global_step = int(state["global_step"])

    # -- the loop ----------------------------------------------------------------------------------------
    def train(self, total_timesteps: int, stop: Callable[[], bool] = lambda: False) -> Iterator[UpdateStats]:
        """Collect and update until ``total_timesteps``; yields each update's statistics."""
        if not self._started:
            # a resumed run restarts its envs from a seed that depends on where it resumes
            obs, _ = self.envs.reset(seed=self.seed + self.global_step)
            self.obs_layout.write(obs, self.rollout.next_obs)
            self._started = True
        while self.global_step < total_timesteps:
            if not self.collect(stop):
                return
            self.global_step += self.params.rollout_size
            yield self.update(progress=(self.global_step - self.params.rollout_size) / total_timesteps)

    @torch.inference_mode()
    def collect(self, stop: Callable[[], bool]) -> bool:
        """Fill the rollout from every env; False when ``stop()`` interrupted it."""
        r, p, envs = self.rollout, self.params, self.envs
        r.obs[0].copy_(r.next_obs)
        for t in range(p.n_steps):
            if stop():
                return False
            masks = None
            if r.masks is not None:
                masks = r.masks[t]
                masks.copy_(torch.from_numpy(np.asarray(self.action_masks(), dtype=bool)))
            actions, logprobs, values = self.agent.sample(r.obs[t], masks, self.generator)
            r.actions[t] = actions
            r.logprobs[t] = logprobs
            r.values[t] = values
            obs, reward, terminated, truncated, info = envs.step(self.heads.to_env(actions))
            self.obs_layout.write(obs, r.obs[t + 1] if t + 1 < p.n_steps else r.next_obs)
            r.rewards[t].copy_(torch.from_numpy(np.asarray(reward)))
            ended = np.logical_or(terminated, truncated)
            r.ends[t].copy_(torch.from_numpy(ended))
            self._episode_return += reward
            if ended.any():
                self._end_episodes(t, ended, np.asarray(terminated), info)
        return True

    def _end_episodes(self, t: int, ended: np.ndarray, terminated: np.ndarray, info: dict[str, Any]) -> None:
        """Record finished returns; bootstrap episodes cut by a time limit from their final observation."""
        rows = np.flatnonzero(ended)
        self.episode_returns.extend(self._episode_return[rows].tolist())
        self._episode_return[rows] = 0.0
        cut = np.flatnonzero(ended & ~terminated)
        if len(cut):
            final = self.obs_layout.stack([info["final_obs"][i] for i in cut], self.device)
            index = torch.from_numpy(cut).to(self.device)
            self.rollout.rewards[t].index_add_(0, index, self.params.gamma * self.agent.value(final))

    def update(self, progress: float) -> UpdateStats:
        """GAE, then ``n_epochs`` of clipped-surrogate minibatch updates over the rollout."""
        p, r, agent = self.params, self.rollout, self.agent
        lr = p.value_at("learning_rate", progress)
        clip = p.value_at("clip_range", progress)
        self.optimizer.lr = lr
        with torch.no_grad():
            compute_gae(r, agent.value(r.next_obs), p.gamma, p.gae_lambda)
        size = p.rollout_size
        obs, actions = r.obs.view(size, -1), r.actions.view(size, -1)
        old_logprobs, old_values = r.logprobs.view(size), r.values.view(size)
        advantages, returns = r.advantages.view(size), r.returns.view(size)
        masks = r.masks.view(size, -1) if r.masks is not None else None
        sums = torch.zeros(5, device=self.device)  # policy loss, value loss, entropy, kl, clip fraction
        batches = 0
        epochs = 0
        for _ in range(p.n_epochs):
            epochs += 1
            order = torch.randperm(size, generator=self.generator, device=self.device)
            stop = False
            for idx in order.tensor_split(p.n_minibatches):
                # index_select: several times faster than advanced indexing (obs[idx]) on the CPU
                mb_masks = masks.index_select(0, idx) if masks is not None else None
                logprob, entropy, value = agent.evaluate(
                    obs.index_select(0, idx), actions.index_select(0, idx), mb_masks
                )
                log_ratio = logprob - old_logprobs.index_select(0, idx)
                ratio = log_ratio.exp()
                with torch.no_grad():
                    approx_kl = ((ratio - 1) - log_ratio).mean()  # http://joschu.net/blog/kl-approx.html
                if p.target_kl is not None and approx_kl.item() > 1.5 * p.target_kl:
                    stop = True  # Stable-Baselines3's rule: stop before a step that moves the policy too far
                    break
                adv = advantages.index_select(0, idx)
                if p.normalize_advantage and len(idx) > 1:
                    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                policy_loss = torch.max(-adv * ratio, -adv * ratio.clamp(1 - clip, 1 + clip)).mean()
                if p.clip_range_vf is not None:
                    old = old_values.index_select(0, idx)
                    value = old + (value - old).clamp(-p.clip_range_vf, p.clip_range_vf)
                value_loss = (returns.index_select(0, idx) - value).square().mean()
                entropy_mean = entropy.mean()
                loss = policy_loss + p.vf_coef * value_loss - p.ent_coef * entropy_mean
                self.optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), p.max_grad_norm)
                self.optimizer.step()
                with torch.no_grad():
                    clipped = ((ratio - 1).abs() > clip).float().mean()
                    sums += torch.stack([policy_loss, value_loss, entropy_mean, approx_kl, clipped]).detach()
                batches += 1
            if stop:
                break
        means = (sums / max(batches, 1)).tolist()
        variance = returns.var()
        explained = 1 - (returns - old_values).var() / variance if variance > 0 else torch.tensor(float("nan"))
        return UpdateStats(
            timesteps=self.global_step,
            learning_rate=lr,
            policy_loss=means[0],
            value_loss=means[1],
            entropy=means[2],
            approx_kl=means[3],
            clip_fraction=means[4],
            explained_variance=float(explained),
            epochs=epochs,
        )
