"""The author guides in docs/guides/ are programs, and this runs them.

Each guide's ```python blocks, joined in order, make one test module run by pytest in a fresh folder, in
its own process (as an author would run it; numpy and friends cannot be imported twice in one):
its module code is the guide's example (define, register, build from a manifest, use), its ``test_*``
functions are the guide's "Testing" section, run with the ``tradecore.testing`` fixtures as a plugin
author's suite would be. ```sh and ```toml blocks are shown, not run.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
GUIDES = REPO / "docs" / "guides"
KINDS = ("sources", "indicators", "rewards", "trainers", "backends")
BLOCK = re.compile(r"^```python\n(.*?)^```\s*$", re.DOTALL | re.MULTILINE)
PUBLIC_MODULES = {"tradecore", "tradecore.api", "tradecore.testing"}


def python_code(kind: str) -> str:
    blocks = BLOCK.findall((GUIDES / f"{kind}.md").read_text(encoding="utf-8"))
    assert blocks, f"docs/guides/{kind}.md has no python blocks"
    return "\n\n".join(blocks)


def test_the_index_links_every_guide_and_is_linked_from_the_plugin_docs():
    index = (GUIDES / "index.md").read_text(encoding="utf-8")
    for kind in KINDS:
        assert f"({kind}.md)" in index, f"docs/guides/index.md does not link {kind}.md"
    assert "guides/index.md" in (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    assert "docs/guides/index.md" in (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", KINDS)
def test_guides_import_only_the_public_api(kind):
    for node in ast.walk(ast.parse(python_code(kind))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tradecore"):
            assert node.module in PUBLIC_MODULES, f"{kind}.md imports {node.module}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("tradecore"):
                    assert alias.name in PUBLIC_MODULES, f"{kind}.md imports {alias.name}"


@pytest.mark.slow  # each guide builds experiments (three run whole pipelines): 5-25 s apiece
@pytest.mark.parametrize("kind", KINDS)
def test_guide_runs_as_a_program_and_its_tests_pass(kind, pytester):
    code = python_code(kind)
    tests = len(re.findall(r"^def test_", code, re.MULTILINE))
    assert tests, f"docs/guides/{kind}.md shows no tests"
    pytester.makepyfile(**{f"test_guide_{kind}": code})
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=300)
    assert result.ret == 0, result.stdout.str()[-6000:]
    result.assert_outcomes(passed=tests)
