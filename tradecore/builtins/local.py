"""Built-in ``local`` backend: runs the experiment on this machine, in this process."""

from __future__ import annotations

from typing import Any

from tradecore.hookspecs import hookimpl
from tradecore.interfaces import ComputeBackend


@hookimpl
def tradecore_backends():
    from pydantic import BaseModel, ConfigDict, Field

    from tradecore.specs import BackendSpec

    class LocalParams(BaseModel):
        model_config = ConfigDict(extra="forbid")
        mode: str = Field("inprocess", pattern="^inprocess$", description="Where the run executes")

    yield BackendSpec(name="local", description="Run on this machine, in-process",
                      params=LocalParams, factory=LocalBackend)


class LocalBackend(ComputeBackend):
    def __init__(self, params: Any) -> None:
        self.params = params

    def submit(self, request: Any) -> Any:
        from tradecore.runs.pipeline import execute

        return execute(request)
