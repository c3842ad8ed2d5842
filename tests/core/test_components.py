"""Every kind of component goes from an in-test plugin through a manifest to a built object."""

from __future__ import annotations

from click.testing import CliRunner
from pydantic import BaseModel, ConfigDict, Field

from tradecore import hookimpl
from tradecore.cli import cli
from tradecore.runtime import Runtime
from tradecore.specs import BackendSpec, IndicatorSpec, RewardTermSpec, SourceSpec, TrainerSpec


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    size: int = Field(1, ge=1, description="How big")


def build(params: Params) -> tuple[str, int]:
    return ("built", params.size)


class EveryKindPlugin:
    """Implements tradecore_sources, tradecore_indicators, tradecore_reward_terms, tradecore_trainers,
    tradecore_backends."""

    name = "every-kind"

    @hookimpl
    def tradecore_sources(self):
        yield SourceSpec(name="src", description="a source", params=Params, factory=build)

    @hookimpl
    def tradecore_indicators(self):
        return [IndicatorSpec(name="ind", description="an indicator", params=Params, factory=build)]

    @hookimpl
    def tradecore_reward_terms(self):
        yield RewardTermSpec(name="rew", description="a reward term", params=Params, factory=build)

    @hookimpl
    def tradecore_trainers(self):
        yield TrainerSpec(name="trn", description="a trainer", params=Params, factory=build)

    @hookimpl
    def tradecore_backends(self):
        yield BackendSpec(name="bck", description="a backend", params=Params, factory=build)


def test_every_kind_resolves_and_builds():
    rt = Runtime(plugins=[EveryKindPlugin()], entrypoints=False)
    resolved = rt.resolve(
        {
            "version": 1,
            "source": {"type": "src", "params": {"size": 2}},
            "indicators": [{"type": "ind"}, {"type": "every-kind/ind", "params": {"size": 3}}],
            "reward": [{"type": "rew", "weight": 0.5}, {"type": "pnl"}],
            "trainer": {"type": "trn"},
            "backend": {"type": "bck", "params": {"size": 9}},
        }
    )
    assert resolved.source.build() == ("built", 2)
    assert [c.build() for c in resolved.indicators] == [("built", 1), ("built", 3)]
    assert [(c.spec.name, c.weight) for c in resolved.reward] == [("rew", 0.5), ("pnl", 1.0)]
    assert resolved.trainer.build() == ("built", 1)
    assert resolved.backend.build() == ("built", 9)
    data = resolved.as_dict()
    assert data["backend"] == {"type": "bck", "plugin": "every-kind", "params": {"size": 9}}
    assert data["env"]["window"] == 64  # defaults filled in for the run record


def test_tradecore_commands_adds_a_cli_command(tmp_path):
    (tmp_path / "hello_plugin.py").write_text(
        "import click\n"
        "from tradecore import hookimpl\n"
        "@hookimpl\n"
        "def tradecore_commands(cli):\n"
        "    @cli.command(name='hello')\n"
        "    @click.argument('who')\n"
        "    def hello(who):\n"
        "        'Greet WHO.'\n"
        "        click.echo(f'hello {who}')\n"
    )
    runner = CliRunner()
    result = runner.invoke(cli, ["--plugins-dir", str(tmp_path), "hello", "world"])
    assert result.exit_code == 0, result.output
    assert result.output == "hello world\n"
    result = runner.invoke(cli, ["--plugins-dir", str(tmp_path), "--help"])
    assert "hello" in result.output and "Greet WHO." in result.output


def test_a_raising_commands_hook_does_not_break_the_cli(tmp_path):
    (tmp_path / "bad_commands.py").write_text(
        "from tradecore import hookimpl\n"
        "@hookimpl\n"
        "def tradecore_commands(cli):\n"
        "    raise RuntimeError('cannot add my command')\n"
    )
    result = CliRunner().invoke(cli, ["--plugins-dir", str(tmp_path), "plugins", "--json"])
    assert result.exit_code == 0, result.output
    assert '"bad_commands"' in result.output and "cannot add my command" in result.output
