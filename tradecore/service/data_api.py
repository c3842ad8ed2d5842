"""Sources for the forms, coverage of the lake (the seed's ``/api/data-coverage``) and streamed downloads."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response, StreamingResponse

from tradecore.service.problems import Problems, problem
from tradecore.service.state import ServiceState, iso, json_safe, state

router = APIRouter(prefix="/api", tags=["data"])
#: gaps GET /api/data/gaps lists unless ``limit`` says otherwise (as many as a page can show)
GAPS_LIMIT = 500


def _source(svc: ServiceState, name: str) -> Any:
    info = svc.sources.get(name)
    if info is None:
        raise problem(404, "exchange", f"unknown exchange {name!r}; choose one of: {', '.join(svc.sources)}")
    return info


@router.get("/sources")
def sources(svc: ServiceState = Depends(state)) -> list[dict[str, Any]]:
    """Installed sources that can fill the lake: timeframes, markets, what their exchange can deliver."""
    return [info.as_dict(svc.lake, svc.settings.max_bars) for info in svc.sources.values()]


@router.get("/sources/{name}/markets")
def markets(name: str, svc: ServiceState = Depends(state)) -> dict[str, Any]:
    info = _source(svc, name)
    return {"exchange": name, "markets": info.markets(svc.lake), "any_symbol": not info.facts.markets}


@router.get("/sources/{name}/warnings")
def warnings(
    name: str,
    timeframe: str = Query(...),
    start: str | None = Query(None, description="UTC start (ISO); empty with full_history"),
    end: str | None = Query(None),
    full_history: bool = Query(False),
    svc: ServiceState = Depends(state),
) -> dict[str, Any]:
    """What the form shows under the range: the exchange's caps and slow paths, a range over the limit."""
    import time

    from tradecore.data.lake import to_ms
    from tradecore.errors import TradecoreError
    from tradecore.service.sources import range_warnings
    from tradecore.timeframes import timeframe_ms

    info = _source(svc, name)
    try:
        timeframe_ms(timeframe)
        lo = to_ms(info.facts.history_start if full_history else start) if (start or full_history) else None
        hi = to_ms(end) if end else int(time.time() * 1000)
    except TradecoreError as exc:
        raise problem(422, "range", str(exc)) from None
    if lo is None or info.facts.history_start is None and full_history:
        return {"warnings": []}
    return {"warnings": range_warnings(info, timeframe, lo, hi, svc.settings.max_bars)}


@router.get("/data-coverage", response_model=list[dict[str, Any]])
def coverage(
    exchange: str | None = Query(None),
    symbol: str | None = Query(None),
    svc: ServiceState = Depends(state),
) -> Response:
    """One entry per stored series (the seed's shape per timeframe, plus exchange, symbol, rows, holes), from
    footer summaries cached until the lake changes."""
    from tradecore.data.lake import exchange_dir, pair_dir
    from tradecore.errors import LakeError

    problems = []
    for name, value, check in (("exchange", exchange, exchange_dir), ("symbol", symbol, pair_dir)):
        if value is not None:
            try:
                check(value)
            except LakeError as exc:
                problems.append((name, str(exc)))
    if problems:
        raise Problems(422, problems)
    rows, encoded = svc.cache.coverage_view(_coverage_rows)
    if exchange is None and symbol is None:
        return Response(encoded, media_type="application/json")
    return JSONResponse([r for r in rows if exchange in (None, r["exchange"]) and symbol in (None, r["symbol"])])


def _coverage_rows(coverages: list[Any], latest: dict[tuple[str, ...], tuple[int, float]]) -> tuple[list, bytes]:
    """The seed-shaped rows of every series, and their JSON (most requests ask for all of them)."""
    out = []
    for cov in coverages:
        key = (cov.exchange, cov.pair, cov.timeframe)
        fetch = latest.get(("fetch", *key))
        validated = latest.get(("validate", *key))
        out.append(
            {
                "exchange": cov.exchange,
                "symbol": cov.pair,
                "timeframe": cov.timeframe,
                "start_timestamp": iso(cov.first_ms),
                "end_timestamp": iso(cov.last_ms),
                "last_job_id": fetch[0] if fetch else None,
                "validated_at": iso(int(validated[1] * 1000)) if validated else None,
                "last_sync": iso(int(cov.updated * 1000)) if cov.updated else None,
                "rows": cov.rows,
                "percent": round(cov.percent, 3),
                "holes": cov.holes,
                "hole_slots": cov.hole_slots,
            }
        )
    return out, json.dumps(out, separators=(",", ":")).encode()


@router.get("/data/gaps")
def gaps(
    exchange: str = Query(...),
    symbol: str = Query(...),
    timeframe: str = Query(...),
    start: str | None = Query(None, description="UTC start (ISO): also report never-fetched slots from here"),
    end: str | None = Query(None, description="UTC end (ISO), exclusive"),
    kind: Literal["all", "missing", "no_trades"] = Query("all"),
    limit: int = Query(GAPS_LIMIT, ge=1, le=100_000, description="gaps listed (the counts cover all of them)"),
    svc: ServiceState = Depends(state),
) -> dict[str, Any]:
    """The holes of a stored series, as ``tradecore data gaps --json`` reports them (the same code): each gap's
    range, slots, kind ("no_trades": nobody traded; "missing": a hole to fill) and how it could be filled."""
    from tradecore.data.fetch_jobs import exchange_facts
    from tradecore.data.gaps import lake_gap_report, summary_line
    from tradecore.errors import TradecoreError

    try:
        if not svc.lake.partition_files(exchange, symbol, timeframe):
            raise problem(404, "symbol", f"nothing stored for {exchange} {symbol} {timeframe}")
        report = lake_gap_report(
            svc.lake, exchange, symbol, timeframe, start, end, facts=exchange_facts(svc.runtime.registry, exchange)
        )
    except TradecoreError as exc:
        raise problem(422, "series", str(exc)) from None
    if kind != "all":
        report.gaps = [g for g in report.gaps if g.kind == kind]
    answer = report.as_dict()
    answer["summary"] = summary_line(report)
    answer["gaps"] = answer["gaps"][:limit]
    answer["gaps_not_listed"] = max(0, len(report.gaps) - limit)
    return json_safe(answer)


@router.get("/data/download")
def download(
    exchange: str = Query(...),
    symbol: str = Query(...),
    timeframe: str = Query(...),
    start: str | None = Query(None, description="UTC start (ISO), inclusive"),
    end: str | None = Query(None, description="UTC end (ISO), exclusive"),
    format: Literal["parquet", "csv"] = Query("parquet"),
    svc: ServiceState = Depends(state),
) -> StreamingResponse:
    """Stored candles of a range, streamed batch by batch (never the whole range in memory)."""
    from tradecore.data.lake import to_ms
    from tradecore.errors import TradecoreError

    try:
        lo, hi = to_ms(start), to_ms(end)
    except TradecoreError as exc:
        raise problem(422, "start/end", str(exc)) from None
    return stream_range(svc, exchange, symbol, timeframe, lo, hi, format)


@router.get("/data-jobs/{job_id}/download")
def job_download(
    job_id: int, format: Literal["parquet", "csv"] = Query("parquet"), svc: ServiceState = Depends(state)
) -> StreamingResponse:
    """The candles of a job's range."""
    from tradecore.data.jobs import JobError
    from tradecore.service.job_views import requested_range, series_of

    try:
        job = svc.jobs.get(job_id)
    except JobError:
        raise problem(404, "id", f"no data job {job_id}") from None
    return stream_range(svc, *series_of(job), *requested_range(job), format)


def stream_range(
    svc: ServiceState, exchange: str, symbol: str, timeframe: str, lo: int | None, hi: int | None, fmt: str
) -> StreamingResponse:
    from tradecore.errors import LakeError
    from tradecore.service.downloads import batches_csv, batches_parquet, scan_batches

    try:
        files = [p for _, p in svc.lake.partition_files(exchange, symbol, timeframe)]
    except LakeError as exc:
        raise problem(422, "symbol", str(exc)) from None
    if not files:
        raise problem(404, "symbol", f"nothing stored for {exchange} {symbol} {timeframe}")
    if lo is not None and hi is not None and lo >= hi:
        raise problem(422, "start", f"{iso(lo)} is not before end {iso(hi)}: swap them")
    schema, batches = scan_batches(files, lo, hi)
    name = f"{exchange}_{symbol.replace('/', '-')}_{timeframe}"
    if fmt == "csv":
        body, media = batches_csv(schema, batches), "text/csv"
    else:
        body, media = batches_parquet(schema, batches), "application/vnd.apache.parquet"
    headers = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    return StreamingResponse(body, media_type=media, headers=headers)
