"""Names and paths from requests, kept inside their root: run ids, artifact paths; secrets kept out of answers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tradecore.service.problems import problem

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
#: keys whose values never leave the server (API keys in manifests, tokens in provenance)
SECRET_KEY = re.compile(r"(api[_-]?key|secret|token|password|passphrase|credential|private[_-]?key|auth)", re.I)


def inside(path: Path, root: Path) -> bool:
    """True when ``path``, symlinks followed, lies under ``root``."""
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return False
    return True


def run_folder(runs_root: Path, run_id: str) -> Path:
    """The run folder ``run_id`` directly under the runs root, or 404 (422 for a name that is not a name)."""
    if not RUN_ID.match(run_id) or ".." in run_id:
        raise problem(422, "run", f"{run_id!r} is not a run name: letters, digits, '.', '-', '_'")
    path = runs_root / run_id
    if not path.is_dir() or not inside(path, runs_root) or not (path / "run.json").is_file():
        raise problem(404, "run", f"no run {run_id!r}; GET /api/runs lists them")
    return path


def file_in(folder: Path, relative: str) -> Path:
    """A file inside ``folder`` named by a relative path (no '..', no absolute path, no symlink out), or 404."""
    parts = relative.replace("\\", "/").split("/")
    if relative.startswith("/") or any(p in ("", ".", "..") for p in parts) or ":" in parts[0]:
        raise problem(422, "path", f"{relative!r} is not a path inside the run folder")
    path = folder.joinpath(*parts)
    if not path.is_file() or not inside(path, folder):
        raise problem(404, "path", f"no file {relative!r} in this run")
    return path


def redact(value: Any) -> Any:
    """``value`` with every secret-looking key's value replaced (lists and nested objects included)."""
    if isinstance(value, dict):
        return {
            k: ("***" if SECRET_KEY.search(str(k)) and v not in (None, "") else redact(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value
