"""Strict JSON for manifests: what ``json.loads`` lets through but a run would trip over later.

Python's parser accepts duplicate keys (the last one silently wins), numbers that overflow to
infinity (``1e999``), invisible characters in names and symbols, and nesting deep enough to raise a
bare ``RecursionError``. Each becomes a one-line issue with its JSON path, found before anything runs.
"""

from __future__ import annotations

import json
import math
import unicodedata
from typing import Any

from tradecore.errors import ManifestIssue, join_path

#: deeper than any real manifest needs; shallow enough that neither json nor pydantic recurse into trouble
MAX_DEPTH = 32
#: whitespace that free text (a description) may hold; every other control or format character is refused
ALLOWED_CONTROLS = {"\n", "\t", "\r"}


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKey(key)
        seen[key] = value
    return seen


def loads(text: str) -> Any:
    """Parse strict JSON: no NaN/Infinity literals, no duplicate keys. Raises ``json.JSONDecodeError``,
    :class:`DuplicateKey` or ``ValueError``; deep nesting is caught before the parser recurses."""
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise ValueError(f"brackets nested {depth} levels deep (at most {MAX_DEPTH})")
    return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_pairs)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def nesting_depth(text: str) -> int:
    """Deepest bracket nesting outside strings, without recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def value_issues(data: Any, path: str = "") -> list[ManifestIssue]:
    """Non-finite numbers, invisible or control characters and excessive depth anywhere in ``data``."""
    issues: list[ManifestIssue] = []
    stack: list[tuple[Any, str, int]] = [(data, path, 0)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            issues.append(ManifestIssue(where, f"nested more than {MAX_DEPTH} levels deep", hint="flatten it"))
            continue
        if isinstance(value, float) and not math.isfinite(value):
            issues.append(
                ManifestIssue(
                    where,
                    f"{value} is not a finite number",
                    hint="numbers such as 1e999 overflow to infinity: use a finite value",
                )
            )
        elif isinstance(value, str):
            bad = invisible_characters(value)
            if bad:
                issues.append(
                    ManifestIssue(
                        where,
                        f"contains invisible or control character(s) {', '.join(bad)}",
                        hint="retype the text; it often comes from copying out of a web page or a PDF",
                    )
                )
        elif isinstance(value, dict):
            for key, item in value.items():
                child = join_path(where, [str(key)])
                hidden = invisible_characters(str(key))
                if hidden:
                    issues.append(ManifestIssue(child, f"key contains invisible character(s) {', '.join(hidden)}"))
                stack.append((item, child, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))
    return sorted(issues, key=lambda issue: issue.path)


def invisible_characters(text: str) -> list[str]:
    """Code points (``U+200B`` style) of control and format characters, except ordinary whitespace."""
    found = {
        f"U+{ord(c):04X}"
        for c in text
        if c not in ALLOWED_CONTROLS and unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp")
    }
    return sorted(found)
