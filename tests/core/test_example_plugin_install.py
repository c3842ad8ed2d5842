"""The copyable example plugin, pip-installed into this environment, works from a manifest."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "tradecore-example-plugin"


def pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args], capture_output=True, text=True, timeout=300
    )


def tradecore(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tradecore", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


@pytest.fixture
def installed_example():
    already = pip("show", "tradecore-example-plugin").returncode == 0
    if not already:
        out = pip("install", "--no-deps", "--no-build-isolation", "--quiet", str(EXAMPLE))
        assert out.returncode == 0, out.stderr
    yield
    if not already:
        pip("uninstall", "--yes", "--quiet", "tradecore-example-plugin")


@pytest.mark.slow
def test_installed_example_plugin_is_used_from_a_manifest(installed_example, tmp_path):
    listing = json.loads(tradecore("plugins", "--json", cwd=tmp_path).stdout)
    example = {p["name"]: p for p in listing["plugins"]}["example"]
    assert example["status"] == "active" and example["distribution"] == "tradecore-example-plugin"
    assert example["provides"] == {"indicators": ["hl-spread"], "rewards": ["loss-aversion"]}

    manifest = tmp_path / "m.json"
    manifest.write_text(
        json.dumps(
            {
                "version": 1,
                "name": "example-plugin",
                "source": {"type": "synthetic", "params": {"bars": 3000}},
                "indicators": [{"type": "hl-spread", "params": {"period": 10}}],
                "env": {"window": 16, "episode_steps": 64},
                "reward": [{"type": "pnl"}, {"type": "loss-aversion", "weight": 0.5, "params": {"loss_weight": 2}}],
            }
        )
    )
    assert tradecore("validate", str(manifest), cwd=tmp_path).returncode == 0
    run = tradecore("run", str(manifest), "--json", "--runs-dir", str(tmp_path / "runs"), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    outcome = json.loads(run.stdout)
    features = next(s for s in outcome["stages"] if s["stage"] == "features")
    assert "hl-spread" in features["detail"]

    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", str(EXAMPLE / "tests")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
