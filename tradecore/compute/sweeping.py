"""What a backend that runs sweeps implements (:class:`SweepingBackend`) and what it is handed with the plan
(:class:`SweepOptions`). ``tradecore sweep`` hands a :class:`~tradecore.compute.sweep.SweepPlan` to the
manifest's backend when it is one, and refuses otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from tradecore.compute.sweep import SweepPlan
    from tradecore.config.sweep import SweepConfig
    from tradecore.plugins import PluginControls


@dataclass
class SweepOptions:
    """How to execute a sweep; ``None`` fields fall back to the manifest's ``sweep`` section."""

    runs_root: Path
    workers: int | None = None
    metric: str | None = None
    mode: str | None = None
    timeout_s: float | None = None
    grace_s: float | None = None
    progress: bool = False
    #: the plugin controls children must run with, so they see the same plugins as the parent
    controls: PluginControls | None = None
    echo: Callable[[str], None] = print

    def with_defaults(self, config: SweepConfig) -> SweepOptions:
        """These options with ``workers``, ``metric`` and ``mode`` filled from the manifest's ``sweep`` section."""
        return replace(
            self,
            workers=self.workers or config.workers,
            metric=self.metric if self.metric is not None else config.metric,
            mode=self.mode or config.mode,
        )


@runtime_checkable
class SweepingBackend(Protocol):
    """A compute backend that also runs sweeps: every trial of a plan, returning the sweep summary.

    The summary is :func:`tradecore.compute.summary.summary_dict`'s, also written to the sweep folder
    with :func:`~tradecore.compute.summary.write_summary`; on Ctrl-C write it with the unfinished trials
    marked, then let ``KeyboardInterrupt`` propagate.
    """

    def sweep(self, plan: SweepPlan, options: SweepOptions) -> dict[str, Any]:
        """Run every trial of ``plan`` and return the sweep summary."""
        ...
