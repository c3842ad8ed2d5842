"""Property test: thousands of mutated manifests never make validation raise anything but ManifestError."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradecore.errors import ManifestError
from tradecore.manifest import parse_manifest_text, resolve
from tradecore.runtime import Runtime

REPO = Path(__file__).resolve().parents[2]
BASE = json.loads((REPO / "examples" / "quickstart.json").read_text())
RUNTIME = Runtime(entrypoints=True)

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6,
)
KEYS = [
    "version",
    "name",
    "seed",
    "source",
    "indicators",
    "env",
    "reward",
    "split",
    "trainer",
    "backend",
    "type",
    "params",
    "weight",
    "window",
    "fee_bps",
    "actions",
    "size_buckets",
    "bars",
    "timeframe",
    "train",
]


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from paths(value, (*prefix, i))


ALL_PATHS = list(paths(BASE))


@st.composite
def mutated_manifests(draw):
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(ALL_PATHS))
        if not path:
            continue
        parent = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            action = draw(st.sampled_from(["replace", "delete", "rename", "add"]))
            key = path[-1]
            if action == "replace":
                parent[key] = draw(json_value)
            elif action == "delete" and isinstance(parent, dict):
                parent.pop(key, None)
            elif action == "rename" and isinstance(parent, dict) and key in parent:
                parent[draw(st.sampled_from(KEYS)) + draw(st.sampled_from(["", "s", "_"]))] = parent.pop(key)
            elif action == "add" and isinstance(parent, dict):
                parent[draw(st.sampled_from(KEYS))] = draw(json_value)
        except (KeyError, IndexError, TypeError):
            continue
    return data


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_manifests())
def test_mutated_manifests_only_raise_manifest_errors(data):
    try:
        resolve(data, RUNTIME.registry)
    except ManifestError as exc:
        assert exc.issues, "a ManifestError must carry at least one issue"
        for issue in exc.issues:
            line = issue.render()
            assert "\n" not in line and line.strip()


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_text_only_raises_manifest_errors(text):
    try:
        resolve(parse_manifest_text(text), RUNTIME.registry)
    except ManifestError as exc:
        assert all("\n" not in i.render() for i in exc.issues)
