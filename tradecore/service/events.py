"""``GET /api/events``: Server-Sent Events with job and run progress, so pages never poll.

One task looks at the job store (rows updated since its last look) and at the run folders (``run.json``
modification times) every ``poll_s`` seconds and fans each change out to every connected page.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from tradecore.service.state import ServiceState, state

router = APIRouter(prefix="/api", tags=["events"])
HEARTBEAT_S = 15.0


class EventHub:
    def __init__(self, poll_s: float) -> None:
        self.poll_s = poll_s
        self.subscribers: set[asyncio.Queue] = set()
        self._jobs_seen = time.time() - 1.0
        self._runs_seen: dict[str, float] = {}
        self._runs_primed = False  # the first look only learns what exists
        self._launches_seen: dict[str, str] = {}

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
        self.subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self.subscribers.discard(queue)

    def publish(self, event: str, data: Any) -> None:
        message = f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"
        for queue in list(self.subscribers):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:  # a page that stopped reading: drop it rather than grow without bound
                self.subscribers.discard(queue)

    async def run(self, svc: ServiceState) -> None:
        while True:
            try:
                if self.subscribers:
                    changes = await asyncio.to_thread(self.look, svc)
                    for event, data in changes:
                        self.publish(event, data)
                else:
                    self._jobs_seen = time.time() - 1.0
            except Exception as exc:  # noqa: BLE001 -- a busy store or a half-written run.json: try again
                print(f"tradecore serve: events: {exc}")
            await asyncio.sleep(self.poll_s)

    def look(self, svc: ServiceState) -> list[tuple[str, Any]]:
        from tradecore.service.job_views import job_view
        from tradecore.service.runs_api import launches

        out: list[tuple[str, Any]] = []
        for job in svc.jobs.changed_since(self._jobs_seen):
            self._jobs_seen = max(self._jobs_seen, job.updated)
            if job.kind == "fetch":
                out.append(("job", job_view(job, svc.cache if job.status == "done" else None)))
        rows = (svc.run_rows.row(path) for path in self._changed_runs(svc.settings.runs))
        out.extend(("run", row) for row in rows if row is not None)
        for launch in launches(svc, []):
            key = f"{launch['status']}:{launch['run']}"
            if self._launches_seen.get(launch["id"]) != key:
                self._launches_seen[launch["id"]] = key
                out.append(("launch", launch))
        return out

    def _changed_runs(self, root: Path) -> list[Path]:
        changed = []
        if not root.is_dir():
            return changed
        for path in root.iterdir():
            record = path / "run.json"
            try:
                mtime = record.stat().st_mtime
            except OSError:
                continue
            if self._runs_seen.get(path.name) != mtime:
                if self._runs_primed:
                    changed.append(path)
                self._runs_seen[path.name] = mtime
        self._runs_primed = True
        return changed


@router.get("/events")
async def events(request: Request, svc: ServiceState = Depends(state)) -> StreamingResponse:
    """``event: job`` (a job's seed-shaped view), ``event: run`` (a runs-table row), ``event: launch``."""
    queue = svc.events.subscribe()

    async def stream():
        try:
            yield "retry: 2000\n\n"
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_S)
                except TimeoutError:
                    message = ": keep-alive\n\n"
                yield message
        finally:
            svc.events.unsubscribe(queue)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
