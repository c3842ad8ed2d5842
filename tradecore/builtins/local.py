"""Built-in ``local`` backend: runs the experiment on this machine, in this process or in a child process."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tradecore.hookspecs import hookimpl
from tradecore.interfaces import ComputeBackend


@hookimpl
def tradecore_backends():
    from typing import Literal

    from pydantic import BaseModel, ConfigDict, Field

    from tradecore.specs import BackendSpec

    class LocalParams(BaseModel):
        model_config = ConfigDict(extra="forbid")
        mode: Literal["inprocess", "subprocess"] = Field(
            "inprocess",
            description="inprocess: in the tradecore process; subprocess: in an isolated child process "
            "(a crash or leaked GPU memory ends with it). Sweeps always use child processes.",
        )
        workers: int | None = Field(
            None, ge=1, le=1024, description="Most runs at once on this machine (caps sweep.workers)"
        )
        timeout_s: float | None = Field(None, gt=0, description="Stop a child run after this many seconds")
        stop_grace_s: float = Field(
            10.0, ge=0, le=600, description="On Ctrl-C, seconds a child gets to write checkpoints before SIGTERM"
        )

    yield BackendSpec(
        name="local",
        description="Run on this machine, in-process or in isolated child processes",
        params=LocalParams,
        factory=LocalBackend,
    )


class LocalBackend(ComputeBackend):
    """Runs a request in-process, or in a child ``tradecore run`` with its own process group."""

    def __init__(self, params: Any) -> None:
        self.params = params

    def submit(self, request: Any) -> Any:
        if self.params.mode == "subprocess":
            return self._submit_child(request)
        from tradecore.runs.pipeline import execute

        return execute(request)

    def sweep(self, plan: Any, options: Any) -> dict[str, Any]:
        """Run a :class:`~tradecore.compute.sweep.SweepPlan`; returns the sweep summary."""
        from tradecore.compute.local_sweep import run_local_sweep

        if options.timeout_s is None:
            options.timeout_s = self.params.timeout_s
        if options.grace_s is None:
            options.grace_s = self.params.stop_grace_s
        return run_local_sweep(plan, options, max_workers=self.params.workers)

    def _submit_child(self, request: Any) -> Any:
        from tradecore.compute.child import LOG_FILE, child_manifest, start_child, stop_children
        from tradecore.compute.local_sweep import unique_folder
        from tradecore.errors import TradecoreError
        from tradecore.paths import default_runs_root
        from tradecore.runs.pipeline import RunOutcome, StageReport

        runs_root = request.runs_root or default_runs_root()
        name = request.resolved.manifest.name
        folder = unique_folder(runs_root / "children", name)
        controls = request.runtime.controls if request.runtime is not None else None
        child = start_child(
            name,
            child_manifest(request.resolved),
            folder,
            controls=controls,
            runs_dir=runs_root,
            resume=request.resume,
        )
        tail = _LogTail(folder / LOG_FILE, request.echo)
        try:
            while child.poll() is None:
                tail.pump()
                if self.params.timeout_s and child.seconds > self.params.timeout_s:
                    stop_children([child], grace_s=min(self.params.stop_grace_s, 5.0), reason="timeout")
                time.sleep(0.05)
        except KeyboardInterrupt:
            stop_children([child], grace_s=self.params.stop_grace_s)
            tail.pump()
            raise
        tail.pump()
        outcome = child.outcome()
        if child.stop_reason == "timeout":
            raise TradecoreError(
                f"run {name!r} stopped after timeout_s={self.params.timeout_s:g} s; "
                f"raise backend.params.timeout_s (log: {folder / LOG_FILE})"
            )
        if outcome is None or child.process.returncode != 0:
            line = child.error_line().removeprefix("error: ")
            raise TradecoreError(
                f"run {name!r} failed in its child process (exit code {child.process.returncode})"
                + (f": {line}" if line else "")
                + f"; log: {folder / LOG_FILE}"
            )
        stages = [
            StageReport(s["stage"], s["status"], s.get("seconds", 0.0), s.get("detail", ""))
            for s in outcome.get("stages", [])
        ]
        run_dir = outcome.get("run_dir")
        return RunOutcome(stages=stages, run_dir=Path(run_dir) if run_dir else None, metrics=outcome.get("metrics"))


class _LogTail:
    """Echo lines a child appends to its log, as they arrive."""

    def __init__(self, path: Any, echo: Any) -> None:
        self.path, self.echo, self.offset, self.partial = path, echo, 0, b""

    def pump(self) -> None:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except OSError:
            return
        self.offset += len(chunk)
        *lines, self.partial = (self.partial + chunk).split(b"\n")
        for line in lines:
            self.echo(line.decode("utf-8", "replace").rstrip())
