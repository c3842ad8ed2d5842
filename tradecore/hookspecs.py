"""The plugin contract: one plural registration hook per component kind, plus CLI extension and provenance.

Every registration hook returns an iterable of specs (see :mod:`tradecore.specs`; :mod:`tradecore.kinds`
maps each hook to its kind). The core calls each plugin's implementation separately, so one plugin's
failure never hides another's components. Each docstring carries a working example;
``tests/core/test_hooks.py`` runs every one of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:  # keep importing this module cheap: no pydantic, no click
    import click

    from tradecore.specs import BackendSpec, IndicatorSpec, RewardTermSpec, SourceSpec, TrainerSpec

PROJECT = "tradecore"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def tradecore_sources() -> Iterable[SourceSpec]:
    """Register market-data sources (the manifest's ``source``).

    Example::

        from pydantic import BaseModel, ConfigDict
        from tradecore import hookimpl
        from tradecore.specs import SourceSpec

        class CsvParams(BaseModel):
            model_config = ConfigDict(extra="forbid")
            path: str

        @hookimpl
        def tradecore_sources():
            yield SourceSpec(name="my-csv", description="Candles from a CSV file",
                             params=CsvParams, factory="my_plugin.source:CsvSource")
    """


@hookspec
def tradecore_indicators() -> Iterable[IndicatorSpec]:
    """Register indicators (entries of the manifest's ``indicators`` list).

    Example::

        from pydantic import BaseModel, ConfigDict, Field
        from tradecore import hookimpl
        from tradecore.specs import IndicatorSpec

        class SpreadParams(BaseModel):
            model_config = ConfigDict(extra="forbid")
            period: int = Field(20, ge=1, description="Bars in the rolling mean")

        @hookimpl
        def tradecore_indicators():
            yield IndicatorSpec(name="hl-spread", description="(high-low)/close, smoothed",
                                params=SpreadParams, factory="my_plugin.indicators:HlSpread")
    """


@hookspec
def tradecore_reward_terms() -> Iterable[RewardTermSpec]:
    """Register reward terms (entries of the manifest's ``reward`` list, summed with weights).

    Example::

        from pydantic import BaseModel, ConfigDict
        from tradecore import hookimpl
        from tradecore.specs import RewardTermSpec

        class NoParams(BaseModel):
            model_config = ConfigDict(extra="forbid")

        @hookimpl
        def tradecore_reward_terms():
            yield RewardTermSpec(name="hold-bonus", description="Small bonus for holding",
                                 params=NoParams, factory="my_plugin.rewards:HoldBonus")
    """


@hookspec
def tradecore_trainers() -> Iterable[TrainerSpec]:
    """Register trainers (the manifest's ``trainer``).

    Example::

        from pydantic import BaseModel, ConfigDict
        from tradecore import hookimpl
        from tradecore.specs import TrainerSpec

        class RandomParams(BaseModel):
            model_config = ConfigDict(extra="forbid")
            episodes: int = 1

        @hookimpl
        def tradecore_trainers():
            yield TrainerSpec(name="random-agent", description="Uniform random actions",
                              params=RandomParams, factory="my_plugin.trainer:RandomTrainer")
    """


@hookspec
def tradecore_backends() -> Iterable[BackendSpec]:
    """Register compute backends (the manifest's ``backend``).

    Example::

        from pydantic import BaseModel, ConfigDict
        from tradecore import hookimpl
        from tradecore.specs import BackendSpec

        class SlurmParams(BaseModel):
            model_config = ConfigDict(extra="forbid")
            partition: str = "gpu"

        @hookimpl
        def tradecore_backends():
            yield BackendSpec(name="slurm", description="Submit runs to a Slurm cluster",
                              params=SlurmParams, factory="my_plugin.slurm:SlurmBackend")
    """


@hookspec
def tradecore_commands(cli: click.Group) -> None:
    """Add subcommands to the ``tradecore`` CLI. Keep imports inside the commands: ``--help``
    loads every plugin module.

    Example::

        import click
        from tradecore import hookimpl

        @hookimpl
        def tradecore_commands(cli):
            @cli.command(name="hello")
            def hello():
                "Say hello."
                click.echo("hello")
    """


@hookspec
def tradecore_provenance() -> dict[str, str]:
    """Report the packages your components depend on, as ``{package: version}``; every run that uses
    one of your components records them in its ``run.json``, beside your plugin's own version. Read
    versions from package metadata: importing a heavy package here slows every run's start.

    Example::

        from importlib.metadata import PackageNotFoundError, version
        from tradecore import hookimpl

        @hookimpl
        def tradecore_provenance():
            found = {}
            for package in ("numpy", "an-optional-extra"):
                try:
                    found[package] = version(package)
                except PackageNotFoundError:
                    pass  # not installed: nothing of ours used it
            return found
    """
