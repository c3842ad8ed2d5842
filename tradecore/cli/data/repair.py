"""``tradecore data repair``: fill every fillable hole ``data gaps`` reports, as a resumable job."""

from __future__ import annotations

from typing import Any

import click

from tradecore.cli import UserError
from tradecore.cli.data.group import data
from tradecore.cli.data.options import (
    emit,
    extra_params,
    json_option,
    lake_options,
    open_lake,
    parse_range,
    pick_series,
    range_options,
    series_options,
)
from tradecore.cli.data.sources import build_unit, exchange_facts, source_for_exchange, window_unit

#: params that name a fetch's range, never carried from an earlier fetch into a hole's window
RANGE_PARAMS = ("start", "end")


@data.command()
@series_options
@click.option("--source", default=None, help="Source component (default: the one serving the series' exchange).")
@click.option(
    "--from-file",
    "from_file",
    type=click.Path(exists=True),
    default=None,
    metavar="DUMP",
    help="Fill from this dump (CSV, ZIP or folder) instead of the network (method dump unless --param method=).",
)
@range_options
@click.option("--param", "extra", multiple=True, metavar="KEY=VALUE", help="Source params (JSON values).")
@click.option("--dry-run", is_flag=True, help="List each hole and how it would be fetched; write nothing.")
@click.option("--resume", "resume_id", type=int, default=None, metavar="JOB_ID", help="Resume an interrupted repair.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@lake_options
@json_option
@click.pass_context
def repair(
    ctx: click.Context,
    exchange: str | None,
    pair: str | None,
    timeframe: str | None,
    source: str | None,
    from_file: str | None,
    start: str | None,
    end: str | None,
    extra: tuple[str, ...],
    dry_run: bool,
    resume_id: int | None,
    quiet: bool,
    lake_dir: str | None,
    manifest_path: str | None,
    as_json: bool,
) -> None:
    """Fill the holes `data gaps` calls fillable, each through the source's fetch planner (REST, trades
    rebuilt into candles, or a dump you point at), then record what the fetches proved: slots still empty
    are "no trades" (never asked again), holes out of the source's reach "unfillable" with the reason.

    \b
    tradecore data repair -p BTC/USD -t 5m --dry-run
    tradecore data repair -p BTC/USD -t 1h --from-file ~/Downloads/Kraken_OHLCVT.zip
    tradecore data repair --resume 12
    """
    from tradecore.data.jobs import JobStore

    lake = open_lake(lake_dir, manifest_path)
    jobs = JobStore(lake.root)
    if resume_id is not None:
        job = jobs.get(resume_id)
        if job.kind != "repair":
            raise UserError(f"job {job.id} is a {job.kind} job; resume it with `tradecore data {job.kind} --resume`")
        if job.status == "done":
            raise UserError(f"job {job.id} is already done; run `tradecore data repair` again for what is left")
        request = job.request
    else:
        parse_range(start, end)
        key = pick_series(lake, exchange, pair, timeframe)
        name = source or source_for_exchange(ctx, key[0])
        params = _params(ctx, jobs, name, key, extra_params(extra), from_file)
        build_unit(ctx, name, dict(params))  # an unknown source or a bad --param: exit 2 before any work
        request = {
            "source": name,
            "label": f"repair {' '.join(key)}",
            "series": list(key),
            "params": params,
            "start": start,
            "end": end,
        }
        job = None
    _run(ctx, lake, jobs, job, request, dry_run, quiet or as_json, as_json)


def _params(
    ctx: click.Context,
    jobs: Any,
    source: str,
    key: tuple[str, str, str],
    extra: dict[str, Any],
    from_file: str | None,
) -> dict[str, Any]:
    """The params each hole's unit is built from: the series' latest fetch job's (api_url, rate limits,
    method, the synthetic seed...), then --param, then --from-file."""
    from tradecore.cli import get_runtime
    from tradecore.registry import LookupFailure

    params: dict[str, Any] = {}
    for job in jobs.list(kind="fetch", status="done"):
        earlier = job.request.get("params", {})
        if job.request.get("source") == source and (earlier.get("symbol"), earlier.get("timeframe")) == key[1:]:
            params = {k: v for k, v in earlier.items() if k not in RANGE_PARAMS or source == "synthetic"}
            break
    params.update(extra, symbol=key[1], timeframe=key[2])
    if from_file:
        try:
            fields = get_runtime(ctx).component("sources", source).spec.params_model.model_fields
        except LookupFailure as exc:
            raise click.BadParameter(exc.message, param_hint="--source") from None
        if "dumps" not in fields:
            raise click.BadParameter(
                f"source {source!r} takes no dump files; use --source kraken", param_hint="--from-file"
            )
        params["dumps"] = [from_file]
        if "method" not in extra:  # a file was named: no network unless asked for
            params["method"] = "dump"
    return params


def _run(
    ctx: click.Context,
    lake: Any,
    jobs: Any,
    job: Any,
    request: dict[str, Any],
    dry_run: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    from tradecore.data.fetching import Progress
    from tradecore.data.gaps import lake_gap_report, summary_line
    from tradecore.data.repair import Repairer, Series
    from tradecore.timeframes import timeframe_ms

    series = Series(*request["series"])
    facts = exchange_facts(ctx, series.exchange)

    def make_unit(start_ms: int, end_ms: int) -> Any:
        return window_unit(ctx, request["source"], request["params"], start_ms, end_ms)

    def missing() -> list[Any]:
        report = lake_gap_report(
            lake, series.exchange, series.pair, series.timeframe, request["start"], request["end"], facts=facts
        )
        return [g for g in report.gaps if g.kind == "missing"]

    if dry_run:
        _print_plan(lake, missing(), make_unit, as_json)
        return
    if job is None:
        job = jobs.create("repair", request)
    jobs.update(job.id, status="running", error=None)
    step = timeframe_ms(series.timeframe)
    progress = Progress(0, 1, enabled=False)  # while a killed repair's hole is finished: the holes are not known yet
    try:
        repairer = Repairer(lake, jobs, job, series, make_unit, facts, progress)
        repairer.resume_child()
        holes = missing()
        if holes:
            bar = None if not quiet else False
            progress = Progress(
                holes[0].start_ms, holes[-1].end_ms, f"repair {series.label}", enabled=bar, step_ms=step
            )
            repairer.progress = progress
        outcomes = repairer.run(holes)
    except KeyboardInterrupt:
        progress.close()
        jobs.update(job.id, status="interrupted", message="interrupted by the user")
        raise
    except Exception as exc:
        from tradecore.plugins import one_line

        progress.close()
        jobs.update(job.id, status="failed", error=one_line(exc))
        raise
    progress.close()
    counts = repairer.counts()
    message = (
        f"{counts['holes']:,} holes: {counts['filled']:,} filled ({counts['rows']:,} candles), "
        f"{counts['no_trades']:,} no trades, {counts['unfillable']:,} unfillable, {counts['partly']:,} partly"
    )
    jobs.update(job.id, status="done", progress=1.0, cursor=None, counts=counts, message=message)
    after = lake_gap_report(
        lake, series.exchange, series.pair, series.timeframe, request["start"], request["end"], facts=facts
    )
    if as_json:
        emit(
            {
                "job": job.id,
                **{k: getattr(series, k) for k in ("exchange", "pair", "timeframe")},
                "counts": counts,
                "holes": [o.as_dict() for o in outcomes if o.result != "skipped"],
                "gaps_after": {**after.counts(), **after.repair_counts()},
            }
        )
        return
    from tradecore.tables import render_table

    rows = [
        (o.as_dict()["start"], o.as_dict()["end"], o.slots, o.result, f"{o.candles:,}", o.reason or "-")
        for o in outcomes
        if o.result != "skipped"
    ]
    if rows:
        click.echo(render_table(["from", "to", "slots", "result", "candles", "reason"], rows))
    click.echo(f"job {job.id}: repair {series.label}: {message}")
    click.echo(f"now: {summary_line(after)}")


def _print_plan(lake: Any, holes: list[Any], make_unit: Any, as_json: bool) -> None:
    """The --dry-run output: per missing hole, the source's plan for it or why it is out of reach."""
    from tradecore.data.fetching import OutOfReach

    listed = []
    for hole in holes:
        entry: dict[str, Any] = {"start": hole.as_dict()["start"], "end": hole.as_dict()["end"], "slots": hole.slots}
        try:
            unit, _ = make_unit(hole.start_ms, hole.end_ms)
            entry["steps"] = [s.as_dict() for s in unit.plan(lake)]
        except OutOfReach as exc:
            entry["unfillable"] = str(exc)
        listed.append(entry)
    if as_json:
        emit(listed)
        return
    if not listed:
        click.echo("no missing holes: nothing to repair")
        return
    from tradecore.tables import render_table

    rows = []
    for e in listed:
        for s in e.get("steps", []):
            rows.append((e["start"], e["end"], e["slots"], s["method"], s["start"], s["end"], s["detail"]))
        if "unfillable" in e:
            rows.append((e["start"], e["end"], e["slots"], "unfillable", "-", "-", e["unfillable"]))
    click.echo(render_table(["hole from", "hole to", "slots", "method", "from", "to", "detail"], rows))
