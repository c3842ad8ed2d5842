"""Listing, validating and schema export never import the heavy libraries of any plugin."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "stable_baselines3", "sb3_contrib", "ccxt", "runpod", "ray", "talib", "matplotlib", "gymnasium")

SCRIPT = """
import json, sys
from tradecore.cli import cli
for args in (["--help"], ["plugins", "--json"], ["components"], ["validate", sys.argv[1]], ["schema"],
             ["components", "trainers"]):
    try:
        cli.main(args=args, standalone_mode=False)
    except SystemExit:
        pass
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[2].split(","))))
"""


def test_listing_validating_and_schema_import_nothing_heavy():
    manifests = [REPO / "examples" / "quickstart.json", *sorted((REPO / "configs").glob("*.json"))]
    for manifest in manifests:
        out = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(manifest), ",".join(HEAVY)],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        imported = json.loads(out.stdout.strip().splitlines()[-1])
        assert imported == [], f"{manifest.name}: heavy modules imported: {imported}"


def test_import_tradecore_is_cheap():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, tradecore; print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('pydantic', 'numpy', 'polars', 'click')))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.strip() == "[]", out.stdout
