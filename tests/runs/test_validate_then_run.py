"""Property: a manifest that ``validate`` accepts is accepted by ``run`` up to the first training step.

Mutations of the sections a run builds before training (indicators, env, reward, split) are resolved
on the quickstart's 12,000 bars, with sizes that data can hold (how many bars a source delivers is
known only when it loads them). Each accepted one has its data loaded, features and splits built, and
its training env reset and stepped: whatever a run would refuse there, validation must refuse first.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tradecore.api import Candles, ManifestError, RunContext, Runtime, build_experiment

REPO = Path(__file__).resolve().parents[2]
BASE = json.loads((REPO / "examples" / "quickstart.json").read_text())
BASE["trainer"] = None
RUNTIME = Runtime()

small_int = st.integers(-2, 500)
fraction = st.floats(-0.1, 1.1, allow_nan=False)
MUTATIONS = {
    "indicators.0.params.period": small_int,
    "indicators.3.params.period": small_int,
    "env.window": st.integers(-1, 512),
    "env.episode_steps": st.one_of(st.none(), small_int),
    "env.normalize_window": small_int,
    "env.normalize": st.sampled_from(["rolling", "expanding", "none"]),
    "env.leverage": st.floats(-1, 25, allow_nan=False),
    "env.max_drawdown": st.one_of(st.none(), fraction),
    "env.random_start": st.booleans(),
    "env.action_mode": st.sampled_from(["discrete", "continuous"]),
    "env.observation": st.sampled_from(["dict", "flat"]),
    "env.actions.size_buckets": st.lists(fraction, max_size=3),
    "env.actions.stop_loss_pct": st.lists(fraction, max_size=3),
    "env.actions.direction": st.booleans(),
    "split.train": fraction,
    "split.validation": fraction,
    "split.test": fraction,
    "split.embargo_bars": st.one_of(st.none(), small_int),
    "split.folds": st.integers(0, 3),
    "split.fold": st.integers(0, 3),
    "reward.0.weight": st.floats(-1e6, 1e6, allow_nan=False),
}


def mutate(data: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[int(last) if isinstance(node, list) else last] = value


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from(sorted(MUTATIONS)), st.none(), min_size=1, max_size=4).flatmap(
        lambda keys: st.fixed_dictionaries({k: MUTATIONS[k] for k in keys})
    )
)
def test_what_validate_accepts_runs_up_to_training(tmp_path_factory, changes):
    data = copy.deepcopy(BASE)
    for path, value in changes.items():
        mutate(data, path, value)
    try:
        resolved = RUNTIME.resolve(data)
    except ManifestError:
        event("refused by validation")
        return  # refused up front: fine
    ctx = RunContext(lake_root=tmp_path_factory.mktemp("lake"), seed=resolved.manifest.seed)
    source = resolved.source.build()
    candles = Candles.from_frame(source.load(ctx), source.describe()["timeframe"])
    experiment = build_experiment(resolved, candles, ctx)
    env = experiment.make_env("train")
    env.reset(seed=0)
    env.step(env.action_space.sample())
    event("ran to the first training step")
