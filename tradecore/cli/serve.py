"""``tradecore serve``: the web service and dashboard over the lake, the job store and the run folders."""

from __future__ import annotations

import json
from pathlib import Path

import click


def _source_params(values: tuple[str, ...]) -> dict[str, dict]:
    """``SOURCE.KEY=VALUE`` items (JSON values where they parse) -> {source: {key: value}}."""
    out: dict[str, dict] = {}
    for item in values:
        name, sep, value = item.partition("=")
        source, dot, key = name.partition(".")
        if not sep or not dot or not source or not key:
            raise click.BadParameter(f"{item!r}: use SOURCE.KEY=VALUE, e.g. kraken.api_url=http://127.0.0.1:9000")
        try:
            out.setdefault(source, {})[key] = json.loads(value)
        except ValueError:
            out.setdefault(source, {})[key] = value
    return out


@click.command()
@click.pass_context
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind; beyond 127.0.0.1 needs --token.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--lake",
    "lake_dir",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Lake root (default TRADECORE_LAKE, then the user data folder).",
)
@click.option(
    "--runs",
    "runs_dir",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Runs root (default ./runs or TRADECORE_RUNS).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Worker processes for fetch jobs and runs.",
)
@click.option("--token", default=None, help="Required on every request (also TRADECORE_TOKEN).")
@click.option(
    "--source-param",
    "source_param",
    multiple=True,
    metavar="SOURCE.KEY=VALUE",
    help="A param every job of SOURCE gets (a mirror's api_url, say); repeatable.",
)
@click.option(
    "--dumps",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    metavar="DIR",
    help='Kraken OHLCVT ZIPs/CSVs that "seed from dump" imports first.',
)
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    lake_dir: str | None,
    runs_dir: str | None,
    workers: int,
    token: str | None,
    source_param: tuple[str, ...],
    dumps: str | None,
) -> None:
    """Serve the data-jobs API, the runs API and the dashboard pages; Ctrl-C stops (jobs become resumable)."""
    import uvicorn

    from tradecore.cli import get_runtime
    from tradecore.errors import TradecoreError
    from tradecore.paths import default_runs_root, resolve_lake_root
    from tradecore.service.app import create_app
    from tradecore.service.settings import ServiceSettings

    settings = ServiceSettings(
        lake=resolve_lake_root(lake_dir),
        runs=Path(runs_dir) if runs_dir else default_runs_root(),
        host=host,
        port=port,
        workers=workers,
        token=token,
        source_params=_source_params(source_param),
        dumps=Path(dumps) if dumps else None,
    )
    try:
        app = create_app(settings, get_runtime(ctx))
    except TradecoreError as exc:
        raise click.UsageError(str(exc)) from None
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"tradecore serve: http://{shown}:{port}/  (lake {settings.lake}, runs {settings.runs}, "
        f"{workers} worker(s); Ctrl-C stops)"
    )
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
