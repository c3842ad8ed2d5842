"""Evaluation drives envs and policies through their public surface only."""

from __future__ import annotations

import ast
import inspect

from tradecore.interfaces import Policy
from tradecore.runs import evaluate


def test_rollout_reads_no_private_env_attribute_and_probes_nothing():
    tree = ast.parse(inspect.getsource(evaluate))
    private = [
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
    ]
    probes = [
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr")
    ]
    assert private == [] and probes == []


def test_the_policy_protocol_declares_wants_masks():
    assert Policy.__annotations__["wants_masks"] in (bool, "bool")
