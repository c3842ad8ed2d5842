"""``tradecore data stream``: closed candles from a source's live trades into the lake, until stopped."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from tradecore.cli.data.group import data
from tradecore.cli.data.options import (
    check_time,
    emit,
    extra_params,
    json_option,
    lake_options,
    open_lake,
    pairs_and_timeframes,
    parse_ms,
)
from tradecore.cli.data.sources import build_unit

if TYPE_CHECKING:
    from tradecore.data.lake import Lake
    from tradecore.data.stream import StreamRunner


@data.command()
@click.option("--source", "source", required=True, help="A source that can stream (kraken, ccxt).")
@click.option("--pair", "pairs", multiple=True, help="ccxt symbols, comma-separated or repeated (one connection).")
@click.option("--timeframe", default="1m", show_default=True, help="Candle length.")
@click.option("--group", "group_names", multiple=True, help="Named pair group(s) from the user config.")
@click.option("--start", default=None, callback=check_time, help="Catch up from here when nothing is stored yet.")
@click.option("--param", "extra", multiple=True, metavar="KEY=VALUE", help="Extra source params (JSON values).")
@click.option(
    "--stale-after",
    type=click.FloatRange(0.1),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="Reconnect when the connection is silent this long.",
)
@click.option(
    "--grace",
    type=click.FloatRange(0),
    default=2.0,
    show_default=True,
    metavar="SECONDS",
    help="Close a quiet candle this long after its end (a later trade closes it at once).",
)
@click.option(
    "--backoff",
    type=click.FloatRange(0),
    default=0.5,
    show_default=True,
    metavar="SECONDS",
    help="Base of the reconnect back-off (doubling, full jitter, capped at 30 s).",
)
@click.option("-q", "--quiet", is_flag=True, help="No status lines.")
@lake_options
@json_option
@click.pass_context
def stream(
    ctx: click.Context,
    source: str,
    pairs: tuple[str, ...],
    timeframe: str,
    group_names: tuple[str, ...],
    start: str | None,
    extra: tuple[str, ...],
    stale_after: float,
    grace: float,
    backoff: float,
    quiet: bool,
    lake_dir: str | None,
    manifest_path: str | None,
    as_json: bool,
) -> None:
    """Stream live trades into closed candles (origin `stream`) until Ctrl-C or SIGTERM.

    One connection carries every pair. On start and after each reconnect the hole since the last stored
    candle is filled through the source's fetch path (shown as `fetch` jobs); the stream itself is a job
    of kind `stream` with its last candle, lag and reconnect count (`tradecore data jobs`).

    \b
    tradecore data stream --source kraken --pair BTC/USD,ETH/USD --timeframe 1m
    """
    import asyncio
    import signal

    pair_list, tf_list = pairs_and_timeframes(pairs, (timeframe,), group_names)
    if len(tf_list) != 1:
        raise click.BadParameter("a stream builds one timeframe; give one --timeframe", param_hint="--timeframe")
    lake = open_lake(lake_dir, manifest_path)
    say = None if quiet or as_json else (lambda text: click.echo(text, err=True))
    runner = stream_runner(
        ctx,
        source,
        pair_list,
        tf_list[0],
        extra,
        lake,
        say,
        stale_after_s=stale_after,
        close_grace_ms=int(grace * 1000),
        backoff_s=backoff,
        start_ms=parse_ms(start, "--start") if start else None,
    )
    jobs, job = runner.jobs, runner.job

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, stop.set)  # SIGTERM and SIGHUP arrive as SIGINT (cli.main)
        try:
            await runner.run(stop)
        finally:
            loop.remove_signal_handler(signal.SIGINT)

    try:
        asyncio.run(main())
    except Exception as exc:
        from tradecore.plugins import one_line

        jobs.update(job.id, status="failed", error=one_line(exc))
        raise
    jobs.update(job.id, status="interrupted", message="stopped by the user; the open candle was not written")
    if as_json:
        emit(jobs.get(job.id).as_dict())
    raise KeyboardInterrupt


def stream_runner(
    ctx: click.Context,
    source: str,
    pairs: list[str],
    timeframe: str,
    extra: tuple[str, ...],
    lake: Lake,
    say: Callable[[str], None] | None,
    **options: Any,
) -> StreamRunner:
    """A not yet started stream of ``pairs`` from ``source`` into ``lake``, with its job of kind ``stream``
    (``data stream`` runs it; ``paper`` runs one beside its session). ``extra`` are the --param items,
    ``options`` fields of :class:`StreamSettings`; ``say`` gets the status lines."""
    from tradecore.data.jobs import JobStore
    from tradecore.data.stream import StreamRunner, StreamSettings
    from tradecore.data.streaming import StreamingSource

    common = {**extra_params(extra), "lake": str(lake.root), "timeframe": timeframe}
    unit, model = build_unit(ctx, source, dict(common, symbol=pairs[0]))
    if not isinstance(unit, StreamingSource):
        raise click.BadParameter(
            f"source {source!r} cannot stream live trades; use kraken or ccxt", param_hint="--source"
        )

    def catch_up(symbol: str, start_ms: int | None, end_ms: int) -> Any:
        params = dict(common, symbol=symbol, end=_iso(end_ms))
        if start_ms is not None:
            params["start"] = _iso(start_ms)
        return build_unit(ctx, source, params)[0]

    jobs = JobStore(lake.root)
    jobs.mark_orphans()  # a stream (or fetch) killed with -9 left its job running
    label = f"{source} {','.join(pairs)} {timeframe} stream"
    params = model.model_dump(mode="json", exclude_none=True)
    job = jobs.create("stream", {"source": source, "label": label, "pairs": pairs, "params": params})
    echo = None if say is None else (lambda text: say(f"stream job {job.id}: {text}"))
    settings = StreamSettings(exchange=unit.exchange, symbols=pairs, timeframe=timeframe, **options)
    return StreamRunner(unit, settings, lake, jobs, job, catch_up, echo=echo)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()
