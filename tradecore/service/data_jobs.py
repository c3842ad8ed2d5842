"""``/api/data-jobs``: the seed spec's fetch jobs, as rows of the lake's job store run by worker processes."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from tradecore.service.job_views import job_view, requested_range, series_of
from tradecore.service.problems import Problems, problem
from tradecore.service.state import ServiceState, iso, iso_s, state
from tradecore.timeframes import TimeframeError, timeframe_ms

router = APIRouter(prefix="/api", tags=["data jobs"])
#: jobs per page of GET /api/data-jobs unless ``limit`` says otherwise
LIST_LIMIT = 50

#: params keys of a source -> the payload field a user typed them in
PAYLOAD_FIELDS = {"symbol": "symbol", "timeframe": "timeframe", "start": "start_timestamp", "end": "end_timestamp"}


class JobOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seed_from_zip: bool = True
    full_history: bool = False


class DataJobRequest(BaseModel):
    """The seed spec's payload."""

    model_config = ConfigDict(extra="forbid")
    exchange: str
    symbol: str
    timeframe: str
    start_timestamp: datetime | None = None
    end_timestamp: datetime | None = None
    options: JobOptions = JobOptions()


class ActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["validate", "resume", "cancel", "download"]


def _utc_ms(value: datetime) -> int:
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return int(value.timestamp() * 1000)


def check_request(svc: ServiceState, req: DataJobRequest) -> tuple[Any, dict[str, Any], int, int]:
    """Every problem with the payload at once (422), else the source, its params and the range."""
    from tradecore.data.lake import LakeError, pair_dir, to_ms

    problems: list[tuple[str, str]] = []
    info = svc.sources.get(req.exchange)
    if info is None:
        problems.append(("exchange", f"unknown exchange {req.exchange!r}; choose one of: {', '.join(svc.sources)}"))
    step = None
    try:
        step = timeframe_ms(req.timeframe)
    except TimeframeError as exc:
        problems.append(("timeframe", str(exc)))
    if info is not None and step is not None and req.timeframe not in info.timeframes():
        problems.append(
            ("timeframe", f"{req.exchange} has no {req.timeframe!r} bars; use one of {', '.join(info.timeframes())}")
        )
    try:
        pair_dir(req.symbol)
    except LakeError as exc:
        problems.append(("symbol", str(exc)))
    else:
        if info is not None and info.facts.markets and req.symbol not in info.markets(svc.lake):
            problems.append(
                (
                    "symbol",
                    f"{req.symbol!r} is not a market of {req.exchange}; "
                    f"choose one of {', '.join(info.markets(svc.lake))}",
                )
            )
    start = end = None
    if req.options.full_history:
        if info is not None and info.facts.history_start is None:
            problems.append(
                ("options.full_history", f"{req.exchange} does not say where its history begins; give start_timestamp")
            )
        elif info is not None:
            start = to_ms(info.facts.history_start)
    elif req.start_timestamp is None:
        problems.append(("start_timestamp", "required unless options.full_history is true; e.g. 2024-01-01T00:00:00Z"))
    else:
        start = _utc_ms(req.start_timestamp)
    now = int(time.time() * 1000)
    end = _utc_ms(req.end_timestamp) if req.end_timestamp is not None else now
    if step is not None:
        end = min(end, now - now % step + step) if req.end_timestamp is None else end
    if start is not None and step is not None:
        start -= start % step
        if start >= end:
            problems.append(("start_timestamp", f"{iso(start)} is not before end_timestamp {iso(end)}: swap them"))
        elif (end - start) // step > svc.settings.max_bars:
            problems.append(
                (
                    "end_timestamp",
                    f"the range holds {(end - start) // step:,} {req.timeframe} candles; at most "
                    f"{svc.settings.max_bars:,} per request (5 years of 1m): shorten it or split it",
                )
            )
    if problems:
        raise Problems(422, problems)
    params: dict[str, Any] = {
        **svc.settings.source_params.get(info.name, {}),
        "symbol": req.symbol,
        "timeframe": req.timeframe,
        "start": iso(start),
        "end": iso(end),
        "lake": str(svc.lake.root),
    }
    if req.options.seed_from_zip and "dumps" in info.fields and svc.settings.dumps is not None:
        dumps = sorted(str(p) for p in svc.settings.dumps.glob("*") if p.suffix.lower() in (".zip", ".csv"))
        if dumps:
            params["dumps"] = dumps
    return info, params, start, end


def _job_or_404(svc: ServiceState, job_id: int) -> Any:
    from tradecore.data.jobs import JobError

    try:
        return svc.jobs.get(job_id)
    except JobError:
        raise problem(404, "id", f"no data job {job_id}; GET /api/data-jobs lists them") from None


@router.post("/data-jobs", status_code=201)
def create_job(req: DataJobRequest, svc: ServiceState = Depends(state)) -> dict[str, Any]:
    """Queue a fetch: ``{id, status, submitted_at}``; a worker process runs it."""
    from tradecore.data.fetch_jobs import FetchUnitError, build_fetch_unit

    info, params, start, end = check_request(svc, req)
    try:
        _, model = build_fetch_unit(svc.runtime.registry, info.name, params)
    except FetchUnitError as exc:
        raise problem(422, PAYLOAD_FIELDS.get(exc.field, "options"), str(exc)) from None
    request = {
        "source": info.name,
        "exchange": info.exchange,
        "label": f"{info.name} {req.symbol} {req.timeframe}",
        "params": model.model_dump(mode="json", exclude_none=True),
        "options": req.options.model_dump(),
        "via": "service",
    }
    job = svc.jobs.create("fetch", request)
    from tradecore.service.sources import range_warnings

    for warning in range_warnings(info, req.timeframe, start, end, svc.settings.max_bars):
        job = svc.jobs.update(job.id, message=warning)
    if req.options.seed_from_zip and "dumps" in info.fields and "dumps" not in params:
        job = svc.jobs.update(job.id, message="no dump files to seed from (start the server with --dumps DIR)")
    return {"id": job.id, "status": "queued", "submitted_at": iso_s(job.created)}


@router.get("/data-jobs", response_model=list[dict[str, Any]])
def list_jobs(
    request: Request,
    status: str | None = Query(None, description="queued, running, completed, failed, interrupted"),
    limit: int = Query(LIST_LIMIT, ge=1, le=1000, description="jobs per page"),
    offset: int = Query(0, ge=0, description="jobs to skip (the next page: offset + limit)"),
    svc: ServiceState = Depends(state),
) -> JSONResponse:
    """Fetch jobs, newest first (the CLI's too: one store), one page at a time: a ``Link: <...>; rel="next"``
    header points at the next page while there is one."""
    from tradecore.service.job_views import STATUS_NAMES

    store_status = None
    if status is not None:
        names = {v: k for k, v in STATUS_NAMES.items()}
        if status not in names:
            raise problem(422, "status", f"unknown status {status!r}; use one of {', '.join(names)}")
        store_status = names[status]
    jobs = svc.jobs.list(status=store_status, kind="fetch", limit=limit + 1, offset=offset)  # one more: a next page?
    headers = {}
    if len(jobs) > limit:
        following = request.url.include_query_params(offset=offset + limit, limit=limit)
        headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return JSONResponse([job_view(j) for j in jobs[:limit]], headers=headers)


@router.get("/data-jobs/{job_id}", response_model=dict[str, Any])
def get_job(job_id: int, svc: ServiceState = Depends(state)) -> JSONResponse:
    return JSONResponse(job_view(_job_or_404(svc, job_id), svc.cache))


@router.post("/data-jobs/{job_id}/actions")
def job_action(job_id: int, req: ActionRequest, svc: ServiceState = Depends(state)) -> dict[str, Any]:
    """``validate`` (quality checks of the stored range), ``resume``, ``cancel``, ``download`` (links)."""
    job = _job_or_404(svc, job_id)
    if job.kind != "fetch":
        raise problem(422, "id", f"job {job_id} is a {job.kind} job, not a fetch")
    if req.action == "cancel":
        return _cancel(svc, job)
    if req.action == "resume":
        return _resume(svc, job)
    if req.action == "download":
        return {"action": "download", "id": job.id, "artifacts": job_view(job)["result"] or _links(job.id)}
    return {"action": "validate", "id": job.id, **validate_series(svc, *series_of(job), *requested_range(job))}


def _links(job_id: int) -> dict[str, Any]:
    return {
        "artifacts": [
            {"type": fmt, "path": f"/api/data-jobs/{job_id}/download?format={fmt}"} for fmt in ("parquet", "csv")
        ]
    }


def _cancel(svc: ServiceState, job: Any) -> dict[str, Any]:
    if job.status not in ("pending", "running"):
        raise problem(409, "action", f"job {job.id} is {job.status}; only queued or running jobs can be cancelled")
    if job.status == "running" and not svc.supervisor.owns(job.id):
        pid = (job.owner or {}).get("pid")
        raise problem(409, "action", f"job {job.id} runs in another process (pid {pid}, e.g. the CLI); stop it there")
    outcome = svc.supervisor.cancel_job(job.id)
    return {"action": "cancel", "id": job.id, "outcome": outcome, "job": job_view(svc.jobs.get(job.id))}


def _resume(svc: ServiceState, job: Any) -> dict[str, Any]:
    from tradecore.owner import owner_gone

    orphan = job.status == "running" and owner_gone(job.owner)
    if job.status not in ("interrupted", "failed") and not orphan:
        raise problem(409, "action", f"job {job.id} is {job.status}; only interrupted or failed jobs can be resumed")
    request = {**job.request, "via": "service"}
    svc.jobs.update(job.id, status="pending", request=request, error=None, message="resume queued from the web service")
    return {"action": "resume", "id": job.id, "status": "queued"}


def validate_series(
    svc: ServiceState, exchange: str, symbol: str, timeframe: str, start: int | None, end: int | None
) -> dict[str, Any]:
    """Quality checks and gaps of a stored range; recorded as a ``validate`` job (coverage's validated_at)."""
    from tradecore.data.gaps import lake_gap_report
    from tradecore.data.qc import check_candles

    frame = svc.lake.read(exchange, symbol, timeframe, start, end)
    if frame.height == 0:
        raise problem(409, "action", f"nothing stored for {exchange} {symbol} {timeframe} in that range yet")
    qc = check_candles(frame, timeframe, f"{exchange} {symbol} {timeframe}")
    from tradecore.data.fetch_jobs import exchange_facts

    gaps = lake_gap_report(
        svc.lake, exchange, symbol, timeframe, start, end, facts=exchange_facts(svc.runtime.registry, exchange)
    )
    report = {"qc": qc.as_dict(), "gaps": gaps.counts()}
    record = svc.jobs.create(
        "validate",
        {
            "exchange": exchange,
            "label": f"validate {exchange} {symbol} {timeframe}",
            "params": {"symbol": symbol, "timeframe": timeframe, "start": iso(start), "end": iso(end)},
        },
    )
    svc.jobs.update(record.id, status="done", progress=1.0, counts={"rows": frame.height, **gaps.counts()})
    return {"validation_job": record.id, "report": report}
