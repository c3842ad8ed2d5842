"""The plugin as users get it: specs valid, hook module light, the import-dump command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from kraken_helpers import SHARED_KRAKEN

from tradecore.testing import assert_spec_valid


def test_specs_are_valid_and_listing_imports_no_ccxt():
    code = (
        "import sys; from tradecore.api import Runtime; rt = Runtime(); "
        "specs = [rt.component('sources', n) for n in ('kraken', 'ccxt')]; "
        "print(all(s is not None for s in specs), 'ccxt' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "False"]
    import tradecore_kraken.plugin as plugin

    for spec in plugin.tradecore_sources():
        assert_spec_valid(spec)


@pytest.mark.skipif(not SHARED_KRAKEN.is_dir(), reason="../shared/data/kraken is absent")
def test_import_dump_command_twice_is_a_no_op(tmp_path):
    path = str(SHARED_KRAKEN / "ohlcvt/Q3_2023/XBTUSD_15.csv")
    command = [sys.executable, "-m", "tradecore", "kraken", "import-dump", path, "--lake", str(tmp_path), "--json"]
    first = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    second = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    assert json.loads(first)["status"] == "imported" and json.loads(first)["rows"] == 8_829
    assert json.loads(second)["status"] == "skipped"
    bad = subprocess.run([*command[:5], str(tmp_path / "nope.zip")], capture_output=True, text=True)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
