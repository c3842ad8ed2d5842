"""pytest plugin for plugin authors (auto-loaded through the ``pytest11`` entry point).

Fixtures:

- ``tradecore_runtime``: a fresh :class:`~tradecore.runtime.Runtime` with built-ins only (no entry
  points), so tests never depend on what else is installed. Register your plugin with
  ``tradecore_runtime.register(my_plugin_module)``.
- ``tradecore_installed_runtime``: a fresh Runtime with entry-point discovery, as users get it.
- ``synthetic_candles``: a small deterministic candle frame from the built-in ``synthetic`` source.
- ``manifest_factory``: builds a valid manifest dict, with overrides, for ``Runtime.resolve``.

Helpers: :func:`assert_spec_valid` checks a spec against the plugin contract; :func:`run_cli` runs the
``tradecore`` command line in-process, as a user would type it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from click.testing import Result

BASE_MANIFEST: dict[str, Any] = {
    "version": 1,
    "name": "test",
    "seed": 0,
    "source": {"type": "synthetic", "params": {"bars": 2000, "timeframe": "1h"}},
    "env": {"window": 16, "episode_steps": 64},
    "reward": [{"type": "pnl"}],
}


def assert_spec_valid(spec: Any) -> None:
    """Fail the test when ``spec`` breaks the contract (name, description, params, factory)."""
    spec.check()
    schema = spec.params_model.model_json_schema()
    assert schema.get("additionalProperties") is False, f"{spec.name}: params must forbid extra keys"
    spec.load_factory()  # the factory string must import


def run_cli(*args: str, **kwargs: Any) -> Result:
    """Run ``tradecore ARGS...`` in this process (click's ``CliRunner``) and return the result: ``exit_code``
    and ``output``. ``kwargs`` go to ``CliRunner.invoke`` (``input``, ``env``); errors other than the
    command's own one-line ones propagate with their traceback unless ``catch_exceptions=True``.

        result = run_cli("data", "list", "--lake", str(tmp_path), "--json")
        assert result.exit_code == 0, result.output
    """
    from click.testing import CliRunner

    from tradecore.cli import cli

    kwargs.setdefault("catch_exceptions", False)
    return CliRunner().invoke(cli, list(args), **kwargs)


@pytest.fixture
def tradecore_runtime() -> Any:
    from tradecore.runtime import Runtime

    return Runtime(entrypoints=False)


@pytest.fixture
def tradecore_installed_runtime() -> Any:
    from tradecore.runtime import Runtime

    return Runtime(entrypoints=True)


@pytest.fixture
def synthetic_candles() -> Any:
    from tradecore.data.synthetic import SyntheticParams, generate_candles

    return generate_candles(SyntheticParams(bars=2000, timeframe="1h", seed=1))


@pytest.fixture
def manifest_factory() -> Callable[..., dict[str, Any]]:
    def make(**overrides: Any) -> dict[str, Any]:
        data = copy.deepcopy(BASE_MANIFEST)
        data.update(copy.deepcopy(overrides))
        return data

    return make
