"""``tradecore data fetch`` (plans and resumable jobs for any fetching source) and ``data groups``."""

from __future__ import annotations

from typing import Any

import click

from tradecore.cli import UserError
from tradecore.cli.data.group import data
from tradecore.cli.data.options import (
    check_time,
    emit,
    extra_params,
    json_option,
    lake_options,
    open_lake,
    pairs_and_timeframes,
    parse_range,
    split_values,
)
from tradecore.cli.data.sources import build_unit
from tradecore.data.fetch_jobs import fetch_job_with_progress


@data.command()
@click.option("--source", "source", default=None, help="Source component (kraken, ccxt, synthetic, ...).")
@click.option("--pair", "pairs", multiple=True, help="ccxt symbols, comma-separated or repeated.")
@click.option("--timeframe", "timeframes", multiple=True, help="Timeframes, comma-separated or repeated.")
@click.option("--group", "group_names", multiple=True, help="Named pair group(s) from the user config.")
@click.option("--start", default=None, callback=check_time, help="First candle (UTC date or datetime).")
@click.option("--end", default=None, callback=check_time, help="End of the range, exclusive.")
@click.option("--param", "extra", multiple=True, metavar="KEY=VALUE", help="Extra source params (JSON values).")
@click.option("--dry-run", is_flag=True, help="Print the plan per pair and timeframe; write nothing.")
@click.option("--resume", "resume_id", type=int, default=None, metavar="JOB_ID", help="Resume an interrupted job.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@lake_options
@json_option
@click.pass_context
def fetch(
    ctx: click.Context,
    source: str | None,
    pairs: tuple[str, ...],
    timeframes: tuple[str, ...],
    group_names: tuple[str, ...],
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
    """Fetch candles for every (pair, timeframe) through a source component, as resumable jobs.

    \b
    tradecore data fetch --source kraken --pair BTC/USD,ETH/USD --timeframe 1h,1m --start 2024-01-01 --dry-run
    tradecore data fetch --source synthetic --pair SYN/USD --timeframe 1h --start 2024-01-01 --end 2024-03-01
    tradecore data fetch --resume 12
    """
    from tradecore.data.jobs import JobStore

    if resume_id is None:
        if not source:
            raise click.UsageError("give --source (e.g. kraken, synthetic) or --resume JOB_ID")
        pair_list, tf_list = pairs_and_timeframes(pairs, timeframes, group_names)
        parse_range(start, end)
    lake = open_lake(lake_dir, manifest_path)
    jobs = JobStore(lake.root)
    if resume_id is not None:
        _resume(ctx, lake, jobs, resume_id, quiet or as_json, as_json)
        return
    params = {**extra_params(extra), "lake": str(lake.root)}
    if start:
        params["start"] = start
    if end:
        params["end"] = end
    units = _build_units(ctx, source, pair_list, tf_list, params)
    if dry_run:
        _print_plans(lake, units, as_json)
        return
    outcomes = []
    for label, unit, model in units:
        job = jobs.create(
            "fetch", {"source": source, "label": label, "params": model.model_dump(mode="json", exclude_none=True)}
        )
        outcome = fetch_job_with_progress(unit, lake, jobs, job, label, quiet or as_json)
        outcomes.append(outcome)
        if not as_json:
            click.echo(_fetch_line(outcome))
    if as_json:
        emit(outcomes)


def _resume(ctx: click.Context, lake: Any, jobs: Any, job_id: int, quiet: bool, as_json: bool) -> None:
    """Run an interrupted job again from its saved cursor."""
    job = jobs.get(job_id)
    if job.status == "done":
        raise UserError(f"job {job.id} is already done; start a new fetch for more data")
    request = job.request
    unit, _ = build_unit(ctx, request["source"], request["params"])
    outcome = fetch_job_with_progress(unit, lake, jobs, job, request.get("label", f"job {job.id}"), quiet)
    emit(outcome) if as_json else click.echo(_fetch_line(outcome))


def _build_units(
    ctx: click.Context, source: str, pair_list: list[str], tf_list: list[str], common: dict[str, Any]
) -> list[tuple[str, Any, Any]]:
    """One (label, fetch unit, params model) per pair and timeframe."""
    units = []
    for pair in pair_list:
        for tf in tf_list or [None]:
            params = dict(common, symbol=pair)
            if tf:
                params["timeframe"] = tf
            unit, model = build_unit(ctx, source, params)
            units.append((f"{source} {pair} {dict(model).get('timeframe', tf)}", unit, model))
    return units


def _print_plans(lake: Any, units: list[tuple[str, Any, Any]], as_json: bool) -> None:
    """The --dry-run output: each unit's plan, as JSON or one table."""
    plans = [{"unit": label, "steps": [s.as_dict() for s in unit.plan(lake)]} for label, unit, _ in units]
    if as_json:
        emit(plans)
        return
    from tradecore.tables import render_table

    rows = [(p["unit"], s["method"], s["start"], s["end"], s["detail"]) for p in plans for s in p["steps"]]
    click.echo(render_table(["unit", "method", "from", "to", "detail"], rows))


def _fetch_line(outcome: dict[str, Any]) -> str:
    return (
        f"job {outcome['job']}: {outcome['unit']}: {outcome['rows']:,} candles stored "
        f"({outcome['first']} .. {outcome['last']})"
    )


# ---------------------------------------------------------------- list, coverage


@data.command("groups")
@click.option("--set", "set_name", default=None, metavar="NAME", help="Create or replace a group.")
@click.option("--pairs", default=None, help="With --set: comma-separated ccxt symbols.")
@click.option("--timeframes", default=None, help="With --set: default timeframes for the group.")
@json_option
def groups_cmd(set_name: str | None, pairs: str | None, timeframes: str | None, as_json: bool) -> None:
    """Named pair groups kept in the user config (TRADECORE_CONFIG or the user config folder)."""
    from tradecore.data.groups import config_path, groups, set_group

    if set_name:
        if not pairs:
            raise click.BadParameter("give --pairs BTC/USD,ETH/USD", param_hint="--pairs")
        path = set_group(set_name, split_values((pairs,)), split_values((timeframes,)) if timeframes else None)
        click.echo(f"group {set_name!r} saved in {path}")
        return
    known = groups()
    if as_json:
        emit(known)
        return
    if not known:
        click.echo(
            f"no groups in {config_path()}; add one with `tradecore data groups --set majors --pairs BTC/USD,ETH/USD`"
        )
        return
    from tradecore.tables import render_table

    click.echo(
        render_table(
            ["group", "pairs", "timeframes"],
            [(n, ", ".join(g["pairs"]), ", ".join(g["timeframes"])) for n, g in known.items()],
        )
    )
