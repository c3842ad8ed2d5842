"""Plugins and examples import tradecore only through its public surface: ``tradecore``, ``tradecore.api``
and ``tradecore.testing``; and every name they take from ``tradecore.api`` is one it exports.

Read from syntax trees (imports inside functions and under ``TYPE_CHECKING`` count too), so the test
needs none of the plugins' dependencies.
"""

from __future__ import annotations

from pathlib import Path

import tradecore.api
from tests.core.imports import Import, imports_of

REPO = Path(__file__).resolve().parents[2]
PUBLIC = {"tradecore", "tradecore.api", "tradecore.testing"}


def plugin_files() -> list[Path]:
    roots = [*REPO.glob("plugins/*/src"), *REPO.glob("plugins/*/tests"), REPO / "examples"]
    return sorted({path for root in roots for path in root.rglob("*.py")})


def tradecore_imports() -> list[tuple[str, Import]]:
    found = []
    for path in plugin_files():
        where = path.relative_to(REPO).as_posix()
        for imp in imports_of(path):
            if imp.module == "tradecore" or imp.module.startswith("tradecore."):
                found.append((f"{where}:{imp.line}", imp))
    return found


def test_plugins_and_examples_import_only_the_public_modules():
    private = [f"{where} imports {imp.module}" for where, imp in tradecore_imports() if imp.module not in PUBLIC]
    assert not private, "use tradecore.api (or tradecore.testing in tests):\n" + "\n".join(private)


def test_every_name_taken_from_the_api_is_exported():
    exported = set(tradecore.api.__all__)
    missing = [
        f"{where} imports {name}"
        for where, imp in tradecore_imports()
        if imp.module == "tradecore.api"
        for name in imp.names
        if name not in exported
    ]
    assert not missing, "not in tradecore.api.__all__:\n" + "\n".join(missing)


def test_the_check_covers_every_plugin_and_the_example():
    covered = {f.relative_to(REPO).parts[1] for f in plugin_files()}
    expected = {"tradecore-sb3", "tradecore-ray", "tradecore-runpod", "tradecore-talib", "tradecore-example-plugin"}
    assert expected <= covered
