"""What json.loads and the models let through but a run trips over later is refused by validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tradecore.errors import ManifestError
from tradecore.manifest import parse_manifest_text, resolve
from tradecore.runtime import Runtime

REPO = Path(__file__).resolve().parents[2]
BASE_TEXT = (REPO / "examples" / "quickstart.json").read_text()
RUNTIME = Runtime(entrypoints=True)


def issues_of(text: str) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        resolve(parse_manifest_text(text), RUNTIME.registry)
    return [issue.render() for issue in caught.value.issues]


def test_duplicate_keys_are_refused():
    text = BASE_TEXT.replace('"seed":', '"seed": 8, "seed":', 1)
    [line] = issues_of(text)
    assert "duplicate key 'seed'" in line


def test_a_number_that_overflows_to_infinity_is_refused_in_a_file_and_in_embedded_data():
    data = json.loads(BASE_TEXT)
    data["reward"] = [{"type": "pnl", "weight": 1.0}]
    text = json.dumps(data).replace('"weight": 1.0', '"weight": 1e999')
    [line] = issues_of(text)
    assert line.startswith("reward[0].weight: inf is not a finite number")
    data["env"]["fee_bps"] = float("inf")
    with pytest.raises(ManifestError, match=r"env\.fee_bps: inf is not a finite number"):
        resolve(data, RUNTIME.registry)


@pytest.mark.parametrize("where", ["name", "symbol"])
def test_invisible_characters_in_names_and_symbols_are_refused(where):
    data = json.loads(BASE_TEXT)
    if where == "name":
        data["name"] = "quick\u200bstart"
    else:
        data["source"]["params"]["symbol"] = "SYN\u200b/USD"
    with pytest.raises(ManifestError) as caught:
        resolve(data, RUNTIME.registry)
    [issue] = caught.value.issues
    assert "U+200B" in issue.render()
    assert issue.path == ("name" if where == "name" else "source.params.symbol")


def test_deep_nesting_is_one_line_not_a_recursion_error():
    text = BASE_TEXT.rstrip().removesuffix("}") + ', "description": ' + "[" * 100_000 + "]" * 100_000 + "}"
    [line] = issues_of(text)
    assert "nested 100001 levels deep" in line
    assert "\n" not in line


def test_a_union_reports_the_member_of_the_values_own_type():
    data = json.loads(BASE_TEXT)
    data["trainer"]["params"]["learning_rate"] = 0
    with pytest.raises(ManifestError) as caught:
        resolve(data, RUNTIME.registry)
    assert [i.render() for i in caught.value.issues] == ["trainer.params.learning_rate: Input should be greater than 0"]


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"n_epochs": 2**64}, "trainer.params.n_epochs"),
        ({"learning_rate": -0.1}, "trainer.params.learning_rate"),
        ({"net_arch": [64, 0]}, "trainer.params.net_arch[1]"),
        ({"net_arch": {"pi": [0], "vf": [64]}}, "trainer.params.net_arch.pi[0]"),
        ({"checkpoint_freq": 10**15}, "trainer.params.checkpoint_freq"),
        ({"batch_size": 1}, "trainer.params"),
    ],
)
def test_sb3_params_that_would_fail_or_hang_a_run_fail_validation(params, path):
    data = json.loads(BASE_TEXT)
    data["trainer"]["params"].update(params)
    with pytest.raises(ManifestError) as caught:
        resolve(data, RUNTIME.registry)
    assert [i.path for i in caught.value.issues] == [path]


def test_an_unknown_name_among_hundreds_suggests_the_closest_few_and_the_listing_command():
    data = json.loads(BASE_TEXT)
    data["indicators"] = [{"type": "talib-rsx"}]
    with pytest.raises(ManifestError) as caught:
        resolve(data, RUNTIME.registry)
    [line] = [i.render() for i in caught.value.issues]
    if len(RUNTIME.registry.names("indicators")) <= 12:
        pytest.skip("the TA-Lib plugin is not installed: too few indicators to need a short list")
    assert "did you mean 'talib-rsi'" in line and "tradecore components indicators" in line
    assert len(line) < 200, line
