"""tradecore hooks of the RunPod plugin: the ``runpod`` backend and the ``tradecore runpod`` commands (light)."""

from __future__ import annotations

from tradecore.api import hookimpl


@hookimpl
def tradecore_backends():
    from tradecore.api import BackendSpec
    from tradecore_runpod.params import RunpodParams

    yield BackendSpec(
        name="runpod",
        description="Run on a RunPod GPU pod (REST v2) under budget guards",
        params=RunpodParams,
        factory="tradecore_runpod.backend:RunpodBackend",
        meta={"paid": True},
    )


@hookimpl
def tradecore_commands(cli):
    from tradecore_runpod.cli import runpod

    cli.add_command(runpod)
