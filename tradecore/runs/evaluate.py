"""Deterministic evaluation rollouts of a policy over a whole split, through the experiment's own env.

A policy is anything with ``reset(num_envs)`` and ``act(obs, masks=..., bars=...)`` returning one
row per env: head indices (discrete mode, enabled heads in order) or the Box action (continuous).
Agents and baselines run through the same env, so they pay the same fees and slippage on the same bars.

Long ranges may be cut into ``segments`` contiguous pieces stepped side by side, so the policy sees
batches (a batched forward pass instead of one per bar). Each segment starts flat at the initial
equity and the segment returns compound into one curve; that is what a strategy flattening at each
segment boundary earns, so it is exact for ``segments=1`` (the default below ``EXACT_LIMIT`` bars)
and slightly pessimistic otherwise. The number of segments is recorded with the metrics.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tradecore.interfaces import Policy
from tradecore.runs.rollout_record import Rollout

#: ranges up to this many bars are evaluated as one continuous episode unless told otherwise
EXACT_LIMIT = 200_000
#: bars per segment when a longer range is split automatically
SEGMENT_BARS = 1024


def segment_starts(first: int, last: int, segments: int) -> list[int]:
    """Start bars of ``segments`` contiguous pieces covering steps from ``first`` to ``last``."""
    steps = last - first
    segments = max(1, min(segments, steps))
    return [first + (steps * k) // segments for k in range(segments)] + [last]


def rollout(
    experiment: Any, split: str, policy: Policy, *, segments: int | None = None, record: bool = True, seed: int = 0
) -> Rollout:
    """Run ``policy`` deterministically over every bar of ``split`` and record what happened. A portfolio's
    split is always one exact episode (:func:`tradecore.runs.portfolio_compare.portfolio_rollout`)."""
    if experiment.config.type == "portfolio":
        from tradecore.runs.portfolio_compare import portfolio_rollout

        return portfolio_rollout(experiment, split, policy, seed=seed)
    probe = experiment.make_env(split, random_start=False, episode_steps=None)
    bounds = probe.engine.bounds
    first, last = bounds.first_start, bounds.rows - 1  # the first observation bar and the last bar (split-relative)
    steps_total = last - first
    if segments is None:
        segments = 1 if steps_total <= EXACT_LIMIT else math.ceil(steps_total / SEGMENT_BARS)
    starts = np.array(segment_starts(first, last, segments))
    k = len(starts) - 1
    venv = experiment.make_vec_env(split, k, seed=seed, random_start=False, episode_steps=None)
    masked = not probe.layout.continuous and policy.wants_masks
    term_names = experiment.reward_names if record else []
    n0 = probe.split.start
    e0 = probe.engine.initial_equity

    bar_span = slice(n0 + first, n0 + last + 1)
    price = np.array(experiment.market.close[bar_span], dtype=np.float64)
    times = np.array(experiment.market.time[bar_span], dtype=np.int64)
    market = experiment.market
    candles = (
        {"open": market.open[bar_span].copy(), "high": market.high[bar_span].copy(), "low": market.low[bar_span].copy()}
        if record
        else {}
    )
    equity = np.empty(steps_total + 1)
    equity[0] = e0
    exposure = np.zeros(steps_total)
    costs = np.zeros(steps_total)
    reward = np.zeros(steps_total)
    terms = {name: np.zeros(steps_total) for name in term_names}

    obs, info = venv.reset(seed=seed, options={"start": starts[:-1]})
    bars = np.asarray(info["bar"], dtype=np.int64)
    cursor = starts[:-1] - first  # step index where each segment writes its first step
    lengths = np.diff(starts)
    active = np.ones(k, dtype=bool)
    policy.reset(k)
    step = 0
    try:
        while active.any():
            masks = venv.action_masks() if masked else None
            actions = policy.act(obs, masks=masks, bars=bars)
            obs, r, terminated, _, info = venv.step(actions)
            rows = np.flatnonzero(active)
            j = cursor[rows] + step
            equity[j + 1] = info["equity"][rows]
            exposure[j] = info["position"][rows]
            costs[j] = info["fee"][rows] + info["slippage"][rows]
            reward[j] = r[rows]
            for name in term_names:
                terms[name][j] = info["reward_terms"][name][rows]
            bars = np.asarray(info["bar"], dtype=np.int64)  # where each next observation sits
            step += 1
            finished = rows[(step >= lengths[rows]) | terminated[rows]]
            for i in finished.tolist():  # ruin or a drawdown stop: the segment stays flat from there on
                end = cursor[i] + lengths[i]
                equity[cursor[i] + step + 1 : end + 1] = info["equity"][i]
            active[finished] = False
    finally:
        venv.close()
    if k > 1:  # compound the segments: each starts at the previous one's final equity
        scale = 1.0
        for i in range(k):
            a, b = cursor[i] + 1, cursor[i] + lengths[i] + 1
            equity[a:b] *= scale
            costs[cursor[i] : cursor[i] + lengths[i]] *= scale
            scale = equity[b - 1] / e0
    return Rollout(
        equity=equity,
        exposure=exposure,
        costs=costs,
        price=price,
        time=times,
        reward=reward,
        reward_terms=terms,
        candles=candles,
        segments=k,
    )
