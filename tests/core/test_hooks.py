"""Guard tests: every hook is documented, its docstring example works, and it is tested."""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tradecore import hookspecs
from tradecore.kinds import KINDS
from tradecore.plugins import TradecorePluginManager

REPO = Path(__file__).resolve().parents[2]
HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("tradecore_"))


def example_code(hook_name: str) -> str:
    doc = inspect.getdoc(getattr(hookspecs, hook_name)) or ""
    assert "Example::" in doc, f"{hook_name} has no 'Example::' block in its docstring"
    return textwrap.dedent(doc.split("Example::", 1)[1])


def test_hook_list_is_what_the_contract_says():
    assert HOOKS == sorted([*(kind.hook for kind in KINDS), "tradecore_commands", "tradecore_provenance"])
    assert set(TradecorePluginManager().hook_names()) == set(HOOKS)


@pytest.mark.parametrize("hook_name", HOOKS)
def test_hook_is_documented_with_its_signature(hook_name):
    docs = (REPO / "docs" / "plugins.md").read_text()
    argnames = TradecorePluginManager().hook.__dict__[hook_name].spec.argnames
    assert f"`{hook_name}({', '.join(argnames)})`" in docs, f"docs/plugins.md must document {hook_name}"


@pytest.mark.parametrize("hook_name", HOOKS)
def test_hook_is_tested_somewhere_else(hook_name):
    here = Path(__file__).resolve()
    tests = [p for p in (REPO / "tests").rglob("test_*.py") if p.resolve() != here]
    assert any(hook_name in p.read_text() for p in tests), f"no test uses {hook_name}"


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.hook)
def test_registration_hook_example_runs(kind):
    namespace: dict = {}
    exec(compile(example_code(kind.hook), f"<{kind.hook} example>", "exec"), namespace)
    specs = list(namespace[kind.hook]())
    assert specs, "the example must register at least one component"
    for spec in specs:
        assert isinstance(spec, kind.spec_type) and spec.kind == kind.key
        spec.check()


def test_tradecore_commands_example_runs():
    namespace: dict = {}
    exec(compile(example_code("tradecore_commands"), "<tradecore_commands example>", "exec"), namespace)
    group = click.Group("tradecore")
    namespace["tradecore_commands"](group)
    result = CliRunner().invoke(group, ["hello"])
    assert result.exit_code == 0 and result.output == "hello\n"


def test_tradecore_provenance_example_runs():
    namespace: dict = {}
    exec(compile(example_code("tradecore_provenance"), "<tradecore_provenance example>", "exec"), namespace)
    reported = namespace["tradecore_provenance"]()
    assert reported["numpy"] and "an-optional-extra" not in reported
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in reported.items())
