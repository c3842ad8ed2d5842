"""Errors a user can cause, each rendered as one line naming the thing and the fix."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any


class TradecoreError(Exception):
    """An error with a one-line message meant for the user (no traceback unless verbose)."""


class StageUnavailable(TradecoreError):
    """A pipeline stage has no implementation yet, or its plugin is missing."""


class LakeError(TradecoreError):
    """Bad input to the lake, or a lake that cannot be written (read-only, full disk)."""


@dataclass(frozen=True)
class ManifestIssue:
    """One problem in a manifest: where, what, the bad value, what was expected, how to fix."""

    path: str
    message: str
    value: Any = None
    expected: str | None = None
    hint: str | None = None

    def render(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        if self.value is not None and not self.message.endswith(repr(self.value)):
            text += f" (got {short_json(self.value)})"
        if self.hint:
            text += f"; {self.hint}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "message": self.message,
            "value": self.value,
            "expected": self.expected,
            "hint": self.hint,
        }


class ManifestError(TradecoreError):
    """All the problems found in a manifest, reported together."""

    def __init__(self, issues: list[ManifestIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(i.render() for i in issues))


def short_json(value: Any, limit: int = 60) -> str:
    try:
        text = json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_PLAIN_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")


def join_path(prefix: str, loc: list[Any]) -> str:
    """JSON path like ``indicators[0].params.period``; odd keys are quoted: ``env["a b"]``."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _PLAIN_KEY.match(str(part)):
            path += f".{part}" if path else str(part)
        else:
            path += f"[{json.dumps(str(part))}]"
    return path
