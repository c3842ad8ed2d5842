"""The core's import graph has no cycle, and no module imports a later stage or the CLI.

Stages, in the order data flows: the core (errors, config models, specs, plugins, manifest, runtime,
interfaces) -> data -> features -> env -> runs/compute -> built-in plugins and paper trading -> service (the
web app over all of them) -> cli. Paper trading sits beside the built-ins: it uses run folders, the lake,
features and the env's execution, and only the CLI (and the service) above it may use it. A module may import its
own stage or an earlier one. The built-in plugins sit above every stage they provide components for, as
any plugin does. ``tradecore.api``, ``tradecore.testing`` and ``__main__`` are entry points over all of
them, and nothing in the core imports them.

Imports inside functions count like module-level ones; imports under ``if TYPE_CHECKING:`` do not (they
never run). Everything is read from syntax trees, so the test imports nothing and stays fast.
"""

from __future__ import annotations

import graphlib
from pathlib import Path

from tests.core.imports import imports_of

REPO = Path(__file__).resolve().parents[2]

#: first component under ``tradecore.`` -> stage; anything not named is the core (0)
STAGES = {
    "data": 1,
    "features": 2,
    "env": 3,
    "runs": 4,
    "compute": 4,
    "builtins": 5,
    "paper": 5,
    "service": 6,
    "cli": 7,
}
#: modules others enter through (the gymnasium registration builds a whole experiment from a manifest)
ENTRY_POINTS = {"tradecore.api", "tradecore.testing", "tradecore.__main__", "tradecore.gymnasium_env"}
STAGE_NAMES = {
    0: "core",
    1: "data",
    2: "features",
    3: "env",
    4: "runs/compute",
    5: "builtins/paper",
    6: "service",
    7: "cli",
}


def core_modules() -> dict[str, Path]:
    modules = {}
    for path in sorted((REPO / "tradecore").rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {tradecore module it imports at run time: first line}."""
    modules = core_modules()
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: dict[str, int] = {}
        for imp in imports_of(path, package):
            if imp.type_checking or not imp.module.startswith("tradecore"):
                continue
            # ``from tradecore.runs import folder`` imports the submodule tradecore.runs.folder
            targets = [f"{imp.module}.{n}" for n in imp.names if f"{imp.module}.{n}" in modules] or [imp.module]
            for target in targets:
                while target not in modules and "." in target:
                    target = target.rpartition(".")[0]
                if target != name:
                    edges.setdefault(target, imp.line)
        graph[name] = edges
    return graph


def stage(module: str) -> int:
    if module in ENTRY_POINTS:
        return 99
    parts = module.split(".")
    return STAGES.get(parts[1], 0) if len(parts) > 1 else 0


def test_no_import_cycle():
    graph = import_graph()
    try:
        graphlib.TopologicalSorter({m: set(edges) for m, edges in graph.items()}).prepare()
    except graphlib.CycleError as exc:
        cycle = exc.args[1]
        raise AssertionError("import cycle: " + " -> ".join(cycle)) from None


def test_no_module_imports_a_later_stage_or_an_entry_point():
    wrong = []
    for module, edges in import_graph().items():
        for target, line in edges.items():
            if stage(target) > stage(module):
                where = STAGE_NAMES.get(stage(target), "an entry point")
                wrong.append(f"{module}:{line} imports {target} ({where})")
    assert not wrong, "\n".join(wrong)


def test_the_graph_sees_function_level_imports_and_skips_type_checking_blocks():
    graph = import_graph()
    assert "tradecore.runs.report" in graph["tradecore.runs.pipeline"]  # imported inside stage_report
    assert "tradecore.manifest" not in graph["tradecore.interfaces"]  # under TYPE_CHECKING only
