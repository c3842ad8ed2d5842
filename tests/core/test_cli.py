"""The CLI end to end: plugins, components, validate, schema, run; errors are one line, exit 1."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from tradecore.cli import cli

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart.json"


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def write(tmp_path: Path, data, name="m.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_plugins_table_json_and_requirements():
    table = invoke("plugins")
    assert table.exit_code == 0
    assert table.output.splitlines()[0].split() == ["NAME", "VERSION", "STATUS", "PROVIDES"]
    assert "synthetic" in table.output and "sources: synthetic" in table.output
    data = json.loads(invoke("plugins", "--json").output)
    by_name = {p["name"]: p for p in data["plugins"]}
    assert by_name["local"]["builtin"] and by_name["local"]["provides"] == {"backends": ["local"]}
    assert "tradecore==0.1.0" in invoke("plugins", "--requirements").output.splitlines()


def test_plugins_check_fails_on_a_broken_plugin(tmp_path):
    (tmp_path / "broken.py").write_text("import no_such_module_here\n")
    result = invoke("--plugins-dir", str(tmp_path), "plugins", "--check")
    assert result.exit_code == 1
    assert "failed (ModuleNotFoundError: No module named 'no_such_module_here')" in result.output
    assert invoke("plugins", "--check").exit_code == 0 or "failed" in invoke("plugins").output


def test_disable_flag_and_environment(tmp_path):
    (tmp_path / "extra.py").write_text("x = 1\n")
    result = invoke("--plugins-dir", str(tmp_path), "--disable", "extra", "plugins", "--json")
    status = {p["name"]: p["status"] for p in json.loads(result.output)["plugins"]}
    assert status["extra"] == "disabled"
    result = invoke("--plugins-dir", str(tmp_path), "plugins", "--json", env={"TRADECORE_DISABLE_PLUGINS": "extra"})
    assert {p["name"]: p["status"] for p in json.loads(result.output)["plugins"]}["extra"] == "disabled"


def test_components_list_and_schema():
    listing = invoke("components", "sources")
    assert listing.exit_code == 0 and "synthetic" in listing.output
    data = json.loads(invoke("components", "sources", "synthetic", "--json").output)
    props = data["params"]["properties"]
    assert props["bars"]["default"] == 20000 and "description" in props["bars"]
    assert data["params"]["additionalProperties"] is False
    missing = invoke("components", "sources", "synthetik")
    assert missing.exit_code == 2 and "did you mean 'synthetic'" in missing.output


def test_validate_ok_and_json():
    result = invoke("validate", str(QUICKSTART))
    assert result.exit_code == 0 and result.output.startswith("ok: ")
    data = json.loads(invoke("validate", str(QUICKSTART), "--json").output)
    assert data["valid"] and data["resolved"]["source"]["type"] == "synthetic"


def test_validate_reports_every_error_at_once(tmp_path):
    path = write(
        tmp_path,
        {
            "version": 1,
            "nmae": "x",
            "seed": "7",
            "source": {"type": "synthetc", "params": {}},
            "env": {"window": 0},
            "reward": [{"type": "pnl", "params": {"mode": "lg"}}],
        },
    )
    result = invoke("validate", path)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(lines) == 5, result.output
    text = "\n".join(lines)
    assert "nmae: unknown key 'nmae'; did you mean 'name'?" in text
    assert 'seed: Input should be a valid integer (got "7"); did you mean 7 (a number, without quotes)?' in text
    assert "source.type: unknown source 'synthetc'; did you mean 'synthetic'?" in text
    assert "env.window: Input should be greater than or equal to 1 (got 0)" in text
    assert "reward[0].params.mode" in text
    data = json.loads(invoke("validate", path, "--json").output)
    assert {e["path"] for e in data["errors"]} == {"nmae", "seed", "source.type", "env.window", "reward[0].params.mode"}


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"version": 1,', "invalid JSON"),
        ("[1, 2]", "a manifest must be a JSON object"),
        ('{"version": 1, "source": {"type": "synthetic"}, "env": {"window": NaN}}', "NaN is not valid JSON"),
        ('{"version": 1}', "source: required key is missing"),
    ],
)
def test_bad_manifests_give_one_line_errors(tmp_path, content, message):
    result = invoke("validate", write(tmp_path, content))
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_validate_checks_sweep_paths(tmp_path):
    manifest = {
        "version": 1,
        "source": {"type": "synthetic"},
        "sweep": {"parameters": {"env.fee_bsp": {"values": [10, 26]}}},
    }
    result = invoke("validate", write(tmp_path, manifest))
    assert result.exit_code == 1 and "did you mean env.fee_bps?" in result.output, result.output
    manifest["sweep"] = {"parameters": {"env.fee_bps": {"values": [10, 26]}, "seed": {"values": [1, 2, 3]}}}
    result = invoke("validate", write(tmp_path, manifest))
    assert result.exit_code == 0 and "sweep of 6 runs" in result.output, result.output


def test_missing_manifest_file():
    result = invoke("validate", "does/not/exist.json")
    assert result.exit_code == 2  # a path on the command line that is not there: the command line is wrong
    assert "'does/not/exist.json' does not exist" in result.output


def test_schema_written_and_checked(tmp_path):
    out = tmp_path / "schema.json"
    assert invoke("schema", "-o", str(out)).exit_code == 0
    schema = json.loads(out.read_text())
    assert "synthetic" in schema["$defs"]["sources.ref"]["properties"]["type"]["enum"]
    assert invoke("schema", "-o", str(out), "--check").exit_code == 0
    out.write_text("{}")
    stale = invoke("schema", "-o", str(out), "--check")
    assert stale.exit_code == 1 and "out of date" in stale.output


def test_schema_check_without_output_checks_the_default_path_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = invoke("schema", "--check")
    assert missing.exit_code == 1 and "configs/schema/manifest.schema.json does not exist" in missing.output
    assert not (tmp_path / "configs").exists()
    assert invoke("schema", "-o", "configs/schema/manifest.schema.json").exit_code == 0
    assert invoke("schema", "--check").exit_code == 0


def project_plugins() -> list[str]:
    """The plugins this repository ships: the entry points of plugins/*/pyproject.toml."""
    names = []
    for pyproject in sorted((REPO / "plugins").glob("*/pyproject.toml")):
        names.extend(tomllib.loads(pyproject.read_text())["project"]["entry-points"]["tradecore"])
    return names


def test_committed_schema_is_up_to_date():
    """configs/schema/manifest.schema.json covers the built-ins and exactly the plugins this repository
    ships, whatever else is installed (regenerate with the command in the failure message)."""
    only = ",".join(project_plugins())
    result = invoke(
        "--only", only, "schema", "-o", str(REPO / "configs" / "schema" / "manifest.schema.json"), "--check"
    )
    assert result.exit_code == 0, (
        f"regenerate with: tradecore --only {only} schema -o configs/schema/manifest.schema.json"
    )


def test_run_reports_stages(tmp_path):
    small = {
        "version": 1,
        "name": "small",
        "source": {"type": "synthetic", "params": {"bars": 3000}},
        "env": {"window": 16, "episode_steps": 64},
    }
    result = invoke("run", write(tmp_path, small), "--json", "--runs-dir", str(tmp_path / "runs"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["stages"][0]["stage"] == "data" and data["stages"][0]["status"] == "done"


def test_python_dash_m_and_version():
    out = subprocess.run([sys.executable, "-m", "tradecore", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and "tradecore, version 0.1.0" in out.stdout


def test_strict_and_verbose_show_the_traceback(tmp_path):
    (tmp_path / "broken.py").write_text("raise ValueError('bad plugin')\n")
    out = subprocess.run(
        [sys.executable, "-m", "tradecore", "--strict", "--plugins-dir", str(tmp_path), "plugins"],
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0 and "Traceback" in out.stderr and "bad plugin" in out.stderr
    out = subprocess.run(
        [sys.executable, "-m", "tradecore", "--plugins-dir", str(tmp_path), "plugins"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "Traceback" not in out.stderr + out.stdout
