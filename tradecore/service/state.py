"""What the app's handlers share: settings, the plugin runtime, the lake, the job store, the supervisor."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import Request

if TYPE_CHECKING:
    from tradecore.data.jobs import JobStore
    from tradecore.data.lake import Lake
    from tradecore.runtime import Runtime
    from tradecore.service.events import EventHub
    from tradecore.service.lake_cache import LakeCache
    from tradecore.service.runs_api import RunRows
    from tradecore.service.settings import ServiceSettings
    from tradecore.service.sources import FetchSourceInfo
    from tradecore.service.workers import Supervisor


@dataclass
class ServiceState:
    settings: ServiceSettings
    runtime: Runtime
    lake: Lake
    jobs: JobStore
    supervisor: Supervisor
    events: EventHub
    #: footers and coverage of ``lake``, read again only when the lake changed
    cache: LakeCache
    #: rows of the runs table, read again only when a run's files changed
    run_rows: RunRows
    _sources: dict[str, FetchSourceInfo] | None = field(default=None, repr=False)

    @property
    def sources(self) -> dict[str, FetchSourceInfo]:
        if self._sources is None:
            from tradecore.service.sources import fetch_sources

            self._sources = fetch_sources(self.runtime.registry)
        return self._sources


def state(request: Request) -> ServiceState:
    return request.app.state.service


def iso(ms: Any) -> str | None:
    """Epoch ms as the seed spec writes times: ``2021-06-01T12:00:00Z`` (formatted by hand: strftime costs more
    than the rest of a job's view)."""
    if ms is None:
        return None
    t = time.gmtime(int(ms) // 1000)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}Z"


def iso_s(seconds: float | None) -> str | None:
    return None if seconds is None else iso(int(seconds * 1000))


def json_safe(value: Any) -> Any:
    """``value`` without NaN or infinities (they become null), which JSON cannot carry."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value
