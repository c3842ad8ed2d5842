"""The imports a Python file makes, read from its syntax tree (no code runs): for the architecture tests."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Import:
    module: str  # absolute dotted name: ``tradecore.runs.folder``
    names: tuple[str, ...]  # what ``from module import ...`` takes; () for ``import module``
    line: int
    type_checking: bool  # inside an ``if TYPE_CHECKING:`` block (annotations only, never executed)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, package: str = "") -> Iterator[Import]:
    """Every import in ``path``, at module level and inside functions; ``package`` resolves relative ones."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    yield from _visit(tree.body, package, type_checking=False)


def _visit(nodes: Iterable[ast.AST], package: str, *, type_checking: bool) -> Iterator[Import]:
    for node in nodes:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _visit(node.body, package, type_checking=True)
            yield from _visit(node.orelse, package, type_checking=type_checking)
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, (), node.lineno, type_checking)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            yield Import(module, tuple(a.name for a in node.names), node.lineno, type_checking)
        yield from _visit(ast.iter_child_nodes(node), package, type_checking=type_checking)
