"""``tradecore data jobs``: the fetch jobs recorded beside the lake."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

import click

from tradecore.cli.data.group import data
from tradecore.cli.data.options import emit, json_option, lake_options, lake_root


@data.group(invoke_without_command=True)
@click.option("--status", type=click.Choice(["pending", "running", "interrupted", "failed", "done"]), default=None)
@click.option("--limit", type=int, default=50, show_default=True)
@lake_options
@json_option
@click.pass_context
def jobs(
    ctx: click.Context, status: str | None, limit: int, lake_dir: str | None, manifest_path: str | None, as_json: bool
) -> None:
    """List data jobs (newest first); `jobs show ID` for one."""
    ctx.ensure_object(dict)["lake_root"] = lake_root(lake_dir, manifest_path)
    if ctx.invoked_subcommand:
        return
    from tradecore.data.jobs import JobStore

    listed = JobStore(ctx.obj["lake_root"]).list(status=status, limit=limit)
    if as_json:
        emit([j.as_dict() for j in listed])
        return
    if not listed:
        click.echo("no jobs")
        return
    from datetime import datetime

    from tradecore.tables import render_table

    click.echo(
        render_table(
            ["id", "kind", "what", "status", "progress", "rows", "updated", "error"],
            [
                (
                    j.id,
                    j.kind,
                    j.request.get("label", ""),
                    j.status,
                    _progress(j),
                    f"{j.counts.get('rows', 0):,}",
                    datetime.fromtimestamp(j.updated, tz=UTC).strftime("%Y-%m-%d %H:%M"),
                    (j.error or "")[:60],
                )
                for j in listed
            ],
        )
    )


def _progress(job: Any) -> str:
    """A fetch's share done; a stream's lag behind the exchange clock (its slowest pair)."""
    if job.kind == "stream":
        lags = job.counts.get("lag_s") or {}
        return f"lag {max(lags.values()):.1f}s" if lags else "-"
    return f"{job.progress:.0%}"


@jobs.command("show")
@click.argument("job_id", type=int)
@lake_options
@json_option
@click.pass_context
def jobs_show(ctx: click.Context, job_id: int, lake_dir: str | None, manifest_path: str | None, as_json: bool) -> None:
    """Everything recorded about one job."""
    from tradecore.data.jobs import JobStore

    root = lake_root(lake_dir, manifest_path) if (lake_dir or manifest_path) else ctx.obj["lake_root"]
    job = JobStore(root).get(job_id).as_dict()
    if as_json:
        emit(job)
        return
    for key, value in job.items():
        text = json.dumps(value, default=str) if isinstance(value, (dict, list)) else value
        click.echo(f"{key:>9}: {text}")
