"""``tradecore paper RUN``: paper-trade a run's policy on a lake series, live or as a replay; ``paper report``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from tradecore.cli import get_runtime
from tradecore.cli.data.options import check_name, check_time, check_timeframe, lake_root, parse_range

#: the longest a live session waits for its stream's first catch-up (the warm-up history) before giving up
WARM_UP_TIMEOUT_S = 900.0


def check_session(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An option callback: a ledger folder name, never a path."""
    if value is not None and (not value.strip() or "/" in value or "\\" in value or value.startswith(".")):
        raise click.BadParameter(f"{value!r} is not a folder name: use letters, digits, '-' and '_'")
    return value


class PaperGroup(click.Group):
    """``paper RUN ...`` runs a session (the ``start`` command); ``paper report LEDGER`` is the other command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["start", *args]
        return super().parse_args(ctx, args)


@click.group(cls=PaperGroup)
def paper() -> None:
    """Paper-trade a run's policy: `tradecore paper RUN [options]` (see `tradecore paper start -h`), or
    `tradecore paper report LEDGER`."""


@paper.command()
@click.argument("run")
@click.option(
    "--source",
    "exchange",
    default=None,
    callback=check_name("exchange"),
    help="The lake's exchange folder the candles come from (kraken, synthetic, ...; default: the run's).",
)
@click.option("--pair", default=None, callback=check_name("pair"), help="ccxt symbol (default: the run's).")
@click.option("--timeframe", default=None, callback=check_timeframe, help="Timeframe (default: the run's).")
@click.option("--replay", is_flag=True, help="Replay stored candles in [--start, --end) instead of following new ones.")
@click.option("--start", default=None, callback=check_time, help="Replay: the first candle to decide on (UTC).")
@click.option("--end", default=None, callback=check_time, help="Replay: end of the range (exclusive).")
@click.option(
    "--lake",
    "lake_dir",
    default=None,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Lake root (default: the run manifest's lake, TRADECORE_LAKE, then the user data folder).",
)
@click.option(
    "--session",
    default=None,
    callback=check_session,
    help="Ledger name under RUN/paper/ (default: from the mode, series and range).",
)
@click.option(
    "--model",
    type=click.Choice(["best_model", "model"]),
    default="best_model",
    show_default=True,
    help="Which saved model acts.",
)
@click.option(
    "--poll",
    "poll_seconds",
    type=click.FloatRange(min=0.01),
    default=1.0,
    show_default=True,
    help="Live: seconds between looks at the lake for a new candle.",
)
@click.option(
    "--no-stream",
    is_flag=True,
    help="Live: do not stream; follow the candles a separate `tradecore data stream` stores in the lake.",
)
@click.option(
    "--param",
    "extra",
    multiple=True,
    metavar="KEY=VALUE",
    help="Live: extra params of the streaming source (JSON values), as `data stream --param` takes them.",
)
@click.option("--runs-dir", type=click.Path(file_okay=False), default=None, help="Runs root (default: ./runs).")
@click.option("--trust-model", is_flag=True, help="Load a model file from outside the runs root (pickles run code).")
@click.option("--json", "as_json", is_flag=True, help="Print the session's metrics as JSON at the end.")
@click.pass_context
def start(ctx: click.Context, run: str, **options: Any) -> None:
    """Paper-trade RUN's policy: on each closed candle in the lake, observe with the run's features, act, and fill
    with the environment's execution model, into a ledger under RUN/paper/. A live session streams its series
    itself (what `tradecore data stream` does, the warm-up caught up into the lake first), or with --no-stream
    follows the candles a separate `data stream` stores; Ctrl-C or SIGTERM stops cleanly, and the same command
    continues."""
    from tradecore.paper.live_stream import BackgroundStream
    from tradecore.paper.report import paper_metrics, render_paper_report
    from tradecore.paper.session import PaperSession, StopFlag, run_series
    from tradecore.runs.folder import read_json, resolve_run_dir

    o = options
    run_dir = resolve_run_dir(run, Path(o["runs_dir"]) if o["runs_dir"] else None)
    request = _request(run_dir, o, read_json)
    trained = run_series(run_dir)
    for option, key in (("--pair", "pair"), ("--timeframe", "timeframe")):
        if getattr(request, key) != trained[key]:
            raise click.BadParameter(
                f"run {run_dir.name}'s policy was trained on {trained[key]}, not {getattr(request, key)}: "
                f"paper-trade it on {trained[key]} (or train a run on {getattr(request, key)})",
                param_hint=option,
            )
    echo = (lambda line: click.echo(line, err=True)) if o["as_json"] else click.echo
    request.echo = echo
    if o["extra"] and (request.replay or o["no_stream"]):
        raise click.BadParameter("source params are for the stream a live session starts", param_hint="--param")
    runner = None if request.replay or o["no_stream"] else _stream_runner(ctx, o, request, echo)
    session = stream = None
    interrupted, note = False, "stopped"
    try:
        with StopFlag() as stop:
            if runner is not None:
                stream = BackgroundStream(runner).start()
                request.clock = stream.clock_ms
                echo(
                    f"streaming {request.exchange} {request.pair} {request.timeframe} (stream job {runner.job.id}); "
                    "waiting for the catch-up to fill the warm-up"
                )
                interrupted = not stream.wait_caught_up(request.pair, stop, WARM_UP_TIMEOUT_S)
            if not interrupted:
                session = PaperSession(get_runtime(ctx), request, trust_model=o["trust_model"])
                echo(
                    f"paper {session.folder.name}: {len(session.buffer):,} candles from the lake since the anchor, "
                    f"first decision at bar {session.decide_from:,}; ledger {session.folder}"
                )
                session.ledger.event(f"start: {session.consumed - session.decide_from:,} bars already in the ledger")
                streaming = stream
                status = session.follow(lambda: stop() or (streaming is not None and not streaming.alive))
                interrupted = stop()
                note = "interrupted" if interrupted else status
                if stream is not None and not interrupted and status == "running":  # the stream ended on its own
                    note = "the stream stopped"
                    stream.check()
    except KeyboardInterrupt:
        interrupted, note = True, "interrupted"
    finally:
        if session is not None:
            session.close(note)
        if stream is not None:
            stream.stop()
    if session is None:
        echo("paper stopped before its first decision; run the same command to start again")
        sys.exit(130)
    report = render_paper_report(session.folder)
    metrics = paper_metrics(session.folder)
    if o["as_json"]:
        click.echo(json.dumps({**metrics, "ledger": str(session.folder), "report": str(report)}, indent=2))
    else:
        echo(_summary(metrics))
        echo(f"report: {report}")
    if interrupted:
        echo(f"paper {session.folder.name} stopped; run the same command to continue")
        sys.exit(130)


def _stream_runner(ctx: click.Context, o: dict[str, Any], request: Any, echo: Any) -> Any:
    """The stream of the session's series (not yet started); the lake folder becomes the source's exchange. With
    nothing stored, its catch-up fetches twice the candles the run's features need before the first decision."""
    from tradecore.cli.data.stream import stream_runner
    from tradecore.data.lake import Lake
    from tradecore.env.experiment import minimum_candles
    from tradecore.runs.folder import INPUT_MANIFEST_FILE, read_json

    resolved = get_runtime(ctx).resolve(read_json(request.run_dir / INPUT_MANIFEST_FILE))
    source = request.exchange
    runner = stream_runner(
        ctx,
        source,
        [request.pair],
        request.timeframe,
        o["extra"],
        Lake(request.lake_root),
        echo,
        history_bars=2 * minimum_candles(resolved),
    )
    request.exchange = runner.settings.exchange
    return runner


def _request(run_dir: Path, o: dict[str, Any], read_json: Any) -> Any:
    from tradecore.paper.session import PaperRequest, run_series

    trained = run_series(run_dir)
    replay = o["replay"]
    if not replay and (o["start"] or o["end"]):
        raise click.BadParameter("--start/--end select a replay range: add --replay", param_hint="--start/--end")
    lo, hi = parse_range(o["start"], o["end"])
    manifest_lake = read_json(run_dir / "manifest.input.json").get("lake")
    return PaperRequest(
        run_dir=run_dir,
        exchange=o["exchange"] or trained["exchange"],
        pair=o["pair"] or trained["pair"],
        timeframe=o["timeframe"] or trained["timeframe"],
        lake_root=lake_root(o["lake_dir"] or manifest_lake, None),
        replay=replay,
        start_ms=lo,
        end_ms=hi,
        session=o["session"],
        model=o["model"],
        poll_seconds=o["poll_seconds"],
    )


def _summary(metrics: dict[str, Any]) -> str:
    agent = metrics.get("agent") or {}
    span = metrics.get("range") or {}
    ret = agent.get("total_return")
    sharpe = agent.get("sharpe")
    return (
        f"{metrics['status']}: {metrics['bars']:,} bars ({span.get('first')} to {span.get('last')}), "
        f"{metrics['orders']:,} orders, {metrics['fills']:,} fills "
        f"({metrics['exits']['stop_loss']} stop-loss, {metrics['exits']['take_profit']} take-profit); "
        f"return {'n/a' if ret is None else f'{ret:+.2%}'}, sharpe {'n/a' if sharpe is None else f'{sharpe:.2f}'}, "
        f"final equity {agent.get('final_equity', 0.0) or 0.0:,.2f}"
    )


@paper.command()
@click.argument("ledger", type=click.Path(exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def report(ledger: str, as_json: bool) -> None:
    """Rebuild LEDGER's metrics.json and report.html (a folder under RUN/paper/) and print the summary."""
    from tradecore.paper.report import paper_metrics, render_paper_report

    path = render_paper_report(Path(ledger))
    metrics = paper_metrics(Path(ledger))
    if as_json:
        click.echo(json.dumps(metrics, indent=2))
        return
    click.echo(_summary(metrics))
    click.echo(f"report: {path}")
