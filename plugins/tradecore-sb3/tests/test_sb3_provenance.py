"""A run trained by sb3 records the versions of what trained it, read without importing torch."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version

SCRIPT = """
import json, sys
import tradecore_sb3.hooks as plugin
from tradecore import Runtime
from tradecore.testing import BASE_MANIFEST

rt = Runtime(entrypoints=False, plugins=[plugin])
resolved = rt.resolve({**BASE_MANIFEST, "trainer": {"type": "sb3"}})
packages = rt.provenance(resolved)[resolved.trainer.plugin]["packages"]
print(json.dumps({"packages": packages, "imported": sorted({"torch", "stable_baselines3"} & set(sys.modules))}))
"""


def test_tradecore_provenance_reports_sb3_and_torch_from_metadata():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["packages"]["stable-baselines3"] == version("stable-baselines3")
    assert result["packages"]["torch"] == version("torch")
    assert result["imported"] == []
