"""A job row of the store as the seed spec's API shows it: status, progress, details, result."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradecore.service.state import iso, iso_s
from tradecore.timeframes import timeframe_ms

if TYPE_CHECKING:
    from tradecore.data.jobs import Job
    from tradecore.service.lake_cache import LakeCache

#: the store's statuses as the seed spec names them
STATUS_NAMES = {
    "pending": "queued",
    "running": "running",
    "done": "completed",
    "failed": "failed",
    "interrupted": "interrupted",
}
#: the actions each status allows
ACTIONS = {
    "queued": ["cancel"],
    "running": ["cancel"],
    "completed": ["validate", "download"],
    "failed": ["resume", "validate", "download"],
    "interrupted": ["resume", "validate", "download"],
}


def requested_range(job: Job) -> tuple[int | None, int | None]:
    """[start, end) in epoch ms as the job asked for it (synthetic jobs count bars instead of an end)."""
    from tradecore.data.lake import to_ms

    params = job.request.get("params", {})
    start = to_ms(params.get("start")) if params.get("start") else None
    end = to_ms(params.get("end")) if params.get("end") else None
    if end is None and start is not None and "bars" in params:
        end = start + int(params["bars"]) * timeframe_ms(params.get("timeframe", "1h"))
    return start, end


def series_of(job: Job) -> tuple[str, str, str]:
    params = job.request.get("params", {})
    exchange = job.request.get("exchange") or params.get("exchange") or job.request.get("source", "")
    return exchange, params.get("symbol", ""), params.get("timeframe", "")


def job_view(job: Job, lake: LakeCache | None = None) -> dict[str, Any]:
    """The seed's shape; with ``lake`` the result also says what the lake holds of the range (footers only)."""
    status = STATUS_NAMES.get(job.status, job.status)
    exchange, symbol, timeframe = series_of(job)
    start, end = requested_range(job)
    reached = None
    if start is not None and end is not None:
        step = timeframe_ms(timeframe) if timeframe else 1
        reached = start + int(job.progress * (end - start)) // step * step
    counts = job.counts or {}
    view: dict[str, Any] = {
        "id": job.id,
        "kind": job.kind,
        "status": status,
        "progress": round(float(job.progress), 4),
        "exchange": exchange,
        "symbol": symbol,
        "timeframe": timeframe,
        "source": job.request.get("source"),
        "label": job.request.get("label"),
        "submitted_at": iso_s(job.created),
        "updated_at": iso_s(job.updated),
        "request": {
            "start_timestamp": iso(start),
            "end_timestamp": iso(end),
            "options": job.request.get("options", {}),
        },
        "details": {
            "last_timestamp": iso(reached) if job.progress > 0 else None,
            "batches_completed": counts.get("requests", counts.get("pages", counts.get("batches"))),
            "rows": counts.get("rows", 0),
            "counts": counts,
            "messages": list(job.messages),
            "error": job.error,
        },
        "result": None,
        "actions": ACTIONS.get(status, []),
    }
    if status == "completed" or (lake is not None and counts.get("rows")):
        view["result"] = _result(job, lake, exchange, symbol, timeframe, start, end)
    return view


def _result(
    job: Job, lake: LakeCache | None, exchange: str, symbol: str, timeframe: str, start: int | None, end: int | None
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "rows": (job.counts or {}).get("rows", 0),
        "start_timestamp": None,
        "end_timestamp": None,
        "gaps": None,
        "artifacts": [
            {"type": "parquet", "path": f"/api/data-jobs/{job.id}/download?format=parquet"},
            {"type": "csv", "path": f"/api/data-jobs/{job.id}/download?format=csv"},
        ],
    }
    if lake is None or not (exchange and symbol and timeframe):
        return result
    from tradecore.data.coverage import series_coverage
    from tradecore.errors import TradecoreError

    try:
        cov = series_coverage(exchange, symbol, timeframe, lake.partitions(exchange, symbol, timeframe))
    except TradecoreError:
        return result
    if cov.first_ms is None:
        return result
    step = timeframe_ms(timeframe)
    first = max(cov.first_ms, start) if start is not None else cov.first_ms
    last = min(cov.last_ms, end - step) if end is not None else cov.last_ms
    if first <= last:
        result["start_timestamp"], result["end_timestamp"] = iso(first), iso(last)
    result["gaps"] = cov.holes
    return result
