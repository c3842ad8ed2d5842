"""Helpers for compute tests: manifests, the drop-in test plugin folder, running the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

DROPIN = Path(__file__).parent / "dropin"
#: small enough for the feature and env stages to run on a few hundred bars
SMALL_ENV = {"window": 8, "episode_steps": 32, "normalize": "none"}


def write_manifest(folder: Path, data: dict[str, Any], name: str = "manifest.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def synthetic_manifest(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": 1,
        "name": "sweep-test",
        "source": {"type": "synthetic", "params": {"bars": 400, "timeframe": "1h"}},
        "env": SMALL_ENV,
    }
    data.update(extra)
    return data


def cli_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["TRADECORE_TEST_MARKERS"] = str(tmp_path / "markers")
    env["TRADECORE_LAKE"] = str(tmp_path / "lake")
    env.pop("TRADECORE_PLUGINS_DIR", None)
    (tmp_path / "markers").mkdir(exist_ok=True)
    return env


def start_cli(args: list[str], tmp_path: Path) -> subprocess.Popen[str]:
    """``python -m tradecore ARGS`` in its own session, as a user's terminal would run it."""
    return subprocess.Popen(
        [sys.executable, "-m", "tradecore", "--plugins-dir", str(DROPIN), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(tmp_path),
        start_new_session=True,
    )


def wait_for(predicate, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.fixture
def markers(tmp_path: Path) -> Path:
    folder = tmp_path / "markers"
    folder.mkdir(exist_ok=True)
    return folder
