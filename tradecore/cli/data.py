"""``tradecore data``: fetch into the lake and inspect it (list, coverage, gaps, validate, resample, export,
jobs, slices, groups). Works for every source; output is a table, or JSON with ``--json``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import click

from tradecore.cli import get_runtime


def _lake_root(lake: str | None, manifest: str | None) -> Path:
    """--lake > manifest ``lake`` > TRADECORE_LAKE > per-user data folder."""
    from tradecore.paths import resolve_lake_root

    if not lake and manifest:
        try:
            lake = json.loads(Path(manifest).read_text()).get("lake")
        except (OSError, ValueError, AttributeError) as exc:
            raise click.BadParameter(f"cannot read {manifest}: {exc}", param_hint="--manifest") from None
    return resolve_lake_root(lake)


def lake_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--manifest",
        "manifest_path",
        type=click.Path(dir_okay=False),
        default=None,
        help='Take the lake root from this manifest\'s "lake".',
    )(func)
    return click.option(
        "--lake",
        "lake_dir",
        type=click.Path(file_okay=False),
        default=None,
        metavar="DIR",
        help="Lake root (default: manifest lake, TRADECORE_LAKE, then the user data folder).",
    )(func)


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(func)


def series_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("-t", "--timeframe", default=None, help="Timeframe, ccxt style (1m, 1h, 1d).")(func)
    func = click.option("-p", "--pair", default=None, help="ccxt symbol, e.g. BTC/USD.")(func)
    return click.option("-e", "--exchange", default=None, help="Exchange folder, e.g. kraken.")(func)


def _lake(lake_dir: str | None, manifest_path: str | None) -> Any:
    from tradecore.data.lake import Lake

    return Lake(_lake_root(lake_dir, manifest_path))


def _emit(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _pick_series(lake: Any, exchange: str | None, pair: str | None, timeframe: str | None) -> tuple[str, str, str]:
    """Exactly one stored series matching the filters, or an error naming the choices."""
    keys = [
        k
        for k in lake.series()
        if (not exchange or k.exchange == exchange)
        and (not pair or k.pair == pair)
        and (not timeframe or k.timeframe == timeframe)
    ]
    if len(keys) == 1:
        return keys[0].exchange, keys[0].pair, keys[0].timeframe
    if exchange and pair and timeframe:
        lake.series_dir(exchange, pair, timeframe)  # refuses path-like names first
        stored = sorted({f"{k.exchange} {k.pair} {k.timeframe}" for k in lake.series()})
        raise click.ClickException(
            f"no candles stored for {exchange} {pair} {timeframe} in {lake.root}; stored: "
            f"{', '.join(stored) or 'nothing yet (run tradecore data fetch)'}"
        )
    choices = ", ".join(f"-e {k.exchange} -p {k.pair} -t {k.timeframe}" for k in keys[:8]) or "none"
    what = "several series match" if keys else "no stored series matches"
    raise click.UsageError(f"{what}: give --exchange, --pair and --timeframe (choices: {choices})")


def _ms(value: str | None, name: str) -> int | None:
    from tradecore.data.lake import to_ms

    if value is None:
        return None
    try:
        return to_ms(value)
    except Exception as exc:  # noqa: BLE001 -- a user-typed date: one line, naming the option
        raise click.BadParameter(str(exc), param_hint=name) from None


def _range(start: str | None, end: str | None) -> tuple[int | None, int | None]:
    lo, hi = _ms(start, "--start"), _ms(end, "--end")
    if lo is not None and hi is not None and lo >= hi:
        raise click.BadParameter(f"start {start} is not before end {end}: swap them", param_hint="--start/--end")
    return lo, hi


@click.group()
def data() -> None:
    """Market data: fetch into the Parquet lake, inspect coverage, gaps and quality, resample, export."""


# ---------------------------------------------------------------- fetch


def _build_unit(ctx: click.Context, source: str, params: dict[str, Any]) -> Any:
    from pydantic import ValidationError

    from tradecore.interfaces import FetchingSource
    from tradecore.registry import LookupFailure

    try:
        provided = get_runtime(ctx).component("sources", source)
    except LookupFailure as exc:
        hint = f"; {exc.hint}" if exc.hint else ""
        raise click.BadParameter(f"{exc.message}{hint}", param_hint="--source") from None
    spec = provided.spec
    fields = spec.params_model.model_fields
    if "end" in params and "end" not in fields and "bars" in fields and "start" in params:
        from tradecore.data.lake import to_ms
        from tradecore.timeframes import timeframe_ms

        step = timeframe_ms(params.get("timeframe") or fields["timeframe"].default)
        params["bars"] = max(1, (to_ms(params.pop("end")) - to_ms(params["start"])) // step)
    params = {k: v for k, v in params.items() if k in fields or k not in ("end", "lake")}
    try:
        model = spec.params_model.model_validate(params)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "params"
        raise click.BadParameter(f"{where}: {err['msg']} (source {source!r})", param_hint="--param") from None
    if spec.factory == "tradecore.data.synthetic:SyntheticSource":
        from tradecore.data.synthetic_fetch import synthetic_fetcher

        return synthetic_fetcher(model), model
    unit = spec.build(model)
    if not isinstance(unit, FetchingSource):
        raise click.ClickException(
            f"source {source!r} cannot fetch into the lake (it is not a FetchingSource); "
            "use a source such as kraken, ccxt or synthetic"
        )
    return unit, model


def _run_unit(unit: Any, lake: Any, jobs: Any, job: Any, label: str, quiet: bool) -> dict[str, Any]:
    from tradecore.data.fetching import Progress
    from tradecore.timeframes import timeframe_ms

    steps = unit.plan(lake)
    start = min((s.start_ms for s in steps), default=0)
    end = max((s.end_ms for s in steps), default=start + 1)
    step_ms = timeframe_ms(getattr(unit, "timeframe", None) or job.request.get("params", {}).get("timeframe", "1m"))
    jobs.update(job.id, status="running", error=None)
    progress = Progress(start, end, label, enabled=None if not quiet else False, step_ms=step_ms)
    try:
        result = unit.fetch(lake, jobs, job, progress)
    except KeyboardInterrupt:
        jobs.update(job.id, status="interrupted", message="interrupted by the user")
        progress.close()
        raise
    except Exception as exc:
        from tradecore.plugins import one_line

        jobs.update(job.id, status="failed", error=one_line(exc))
        progress.close()
        raise
    progress.close()
    counts = {**job.counts, **jobs.get(job.id).counts, **result.counts, "rows": result.rows}
    done = jobs.update(job.id, status="done", progress=1.0, counts=counts, message=f"stored {result.rows:,} candles")
    return {"job": done.id, "unit": label, **result.as_dict()}


@data.command()
@click.option("--source", "source", default=None, help="Source component (kraken, ccxt, synthetic, ...).")
@click.option("--pair", "pairs", multiple=True, help="ccxt symbols, comma-separated or repeated.")
@click.option("--timeframe", "timeframes", multiple=True, help="Timeframes, comma-separated or repeated.")
@click.option("--group", "group_names", multiple=True, help="Named pair group(s) from the user config.")
@click.option("--start", default=None, help="First candle (UTC date or datetime).")
@click.option("--end", default=None, help="End of the range, exclusive.")
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

    lake = _lake(lake_dir, manifest_path)
    jobs = JobStore(lake.root)
    if resume_id is not None:
        job = jobs.get(resume_id)
        if job.status == "done":
            raise click.ClickException(f"job {job.id} is already done; start a new fetch for more data")
        request = job.request
        unit, _ = _build_unit(ctx, request["source"], request["params"])
        outcome = _run_unit(unit, lake, jobs, job, request.get("label", f"job {job.id}"), quiet or as_json)
        _emit(outcome) if as_json else click.echo(_fetch_line(outcome))
        return
    if not source:
        raise click.UsageError("give --source (e.g. kraken, synthetic) or --resume JOB_ID")
    from tradecore.data.groups import group

    pair_list = _split(pairs)
    tf_list = _split(timeframes)
    for name in group_names:
        g = group(name)
        pair_list += [p for p in g["pairs"] if p not in pair_list]
        tf_list += [t for t in g["timeframes"] if t not in tf_list]
    if not pair_list:
        raise click.UsageError("give --pair BTC/USD[,ETH/USD] or --group NAME")
    _range(start, end)
    extra_params: dict[str, Any] = {}
    for item in extra:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}: use KEY=VALUE", param_hint="--param")
        try:
            extra_params[key] = json.loads(value)
        except ValueError:
            extra_params[key] = value
    units = []
    for pair in pair_list:
        for tf in tf_list or [None]:
            params = dict(extra_params, symbol=pair)
            if tf:
                params["timeframe"] = tf
            if start:
                params["start"] = start
            if end:
                params["end"] = end
            params["lake"] = str(lake.root)
            unit, model = _build_unit(ctx, source, params)
            label = f"{source} {pair} {model.timeframe if hasattr(model, 'timeframe') else tf}"
            units.append((label, unit, model))
    if dry_run:
        plans = [{"unit": label, "steps": [s.as_dict() for s in unit.plan(lake)]} for label, unit, _ in units]
        if as_json:
            _emit(plans)
            return
        from tradecore.cli.table import render_table

        rows = [(p["unit"], s["method"], s["start"], s["end"], s["detail"]) for p in plans for s in p["steps"]]
        click.echo(render_table(["unit", "method", "from", "to", "detail"], rows))
        return
    outcomes = []
    for label, unit, model in units:
        job = jobs.create(
            "fetch", {"source": source, "label": label, "params": model.model_dump(mode="json", exclude_none=True)}
        )
        outcome = _run_unit(unit, lake, jobs, job, label, quiet or as_json)
        outcomes.append(outcome)
        if not as_json:
            click.echo(_fetch_line(outcome))
    if as_json:
        _emit(outcomes)


def _fetch_line(outcome: dict[str, Any]) -> str:
    return (
        f"job {outcome['job']}: {outcome['unit']}: {outcome['rows']:,} candles stored "
        f"({outcome['first']} .. {outcome['last']})"
    )


# ---------------------------------------------------------------- list, coverage


@data.command("list")
@lake_options
@json_option
def list_(lake_dir: str | None, manifest_path: str | None, as_json: bool) -> None:
    """Every stored series: exchange, pair, timeframe, first and last candle, rows."""
    from tradecore.data.coverage import lake_coverage

    cov = lake_coverage(_lake(lake_dir, manifest_path))
    if as_json:
        _emit([{k: c.as_dict()[k] for k in ("exchange", "pair", "timeframe", "first", "last", "rows")} for c in cov])
        return
    from tradecore.cli.table import render_table

    click.echo(
        render_table(
            ["exchange", "pair", "timeframe", "from", "to", "candles"],
            [(c.exchange, c.pair, c.timeframe, c.as_dict()["first"], c.as_dict()["last"], f"{c.rows:,}") for c in cov],
        )
        if cov
        else "the lake is empty"
    )


@data.command()
@series_options
@lake_options
@json_option
def coverage(
    exchange: str | None,
    pair: str | None,
    timeframe: str | None,
    lake_dir: str | None,
    manifest_path: str | None,
    as_json: bool,
) -> None:
    """Per series: stored ranges, rows, expected slots, percent, holes, last update and source mix
    (from Parquet footers; no data is read)."""
    from tradecore.data.coverage import lake_coverage

    cov = lake_coverage(_lake(lake_dir, manifest_path), exchange, pair, timeframe)
    if as_json:
        _emit([c.as_dict() for c in cov])
        return
    if not cov:
        click.echo("no stored series match")
        return
    from tradecore.cli.table import render_table

    rows = []
    for c in cov:
        d = c.as_dict()
        mix = ", ".join(f"{k} {v / max(c.rows, 1):.0%}" for k, v in sorted(c.origins.items(), key=lambda x: -x[1]))
        rows.append(
            (
                c.exchange,
                c.pair,
                c.timeframe,
                d["first"],
                d["last"],
                f"{c.rows:,}",
                f"{c.expected:,}",
                f"{c.percent:.1f}%",
                f"{c.holes:,}",
                len(c.ranges),
                d["updated"][:16].replace("T", " "),
                mix,
            )
        )
    click.echo(
        render_table(
            [
                "exchange",
                "pair",
                "tf",
                "from",
                "to",
                "rows",
                "expected",
                "cover",
                "holes",
                "ranges",
                "updated",
                "sources",
            ],
            rows,
        )
    )


# ---------------------------------------------------------------- gaps, validate, slices


@data.command()
@series_options
@click.option("--start", default=None, help="Also report never-fetched slots from this time.")
@click.option("--end", default=None, help="... up to this time (exclusive).")
@click.option("--kind", type=click.Choice(["all", "missing", "no_trades"]), default="all", show_default=True)
@click.option("--limit", type=int, default=30, show_default=True, help="Rows to print (table only).")
@lake_options
@json_option
def gaps(
    exchange: str | None,
    pair: str | None,
    timeframe: str | None,
    start: str | None,
    end: str | None,
    kind: str,
    limit: int,
    lake_dir: str | None,
    manifest_path: str | None,
    as_json: bool,
) -> None:
    """Missing slots as ranges: "no_trades" (nobody traded) vs "missing" (a hole to fill, and how)."""
    from tradecore.data.gaps import lake_gap_report, summary_line

    lake = _lake(lake_dir, manifest_path)
    key = _pick_series(lake, exchange, pair, timeframe)
    _range(start, end)
    report = lake_gap_report(lake, *key, start, end)
    if kind != "all":
        report.gaps = [g for g in report.gaps if g.kind == kind]
    if as_json:
        _emit(report.as_dict())
        return
    from tradecore.cli.table import render_table

    click.echo(summary_line(report))
    rows = []
    for g in report.gaps[:limit]:
        how = "-"
        if g.fill:
            choice = g.fill.get("recommended")
            how = f"{choice}: {g.fill[choice].get('detail')}" if choice else "cannot be filled from this exchange"
        rows.append(
            (
                g.as_dict()["start"],
                g.as_dict()["end"],
                g.slots,
                g.kind,
                f"{g.p_empty:.1e}" if g.p_empty is not None else "-",
                how,
            )
        )
    if rows:
        click.echo(render_table(["from", "to", "slots", "kind", "p_empty", "fill"], rows))
    if len(report.gaps) > limit:
        click.echo(f"... {len(report.gaps) - limit:,} more (use --limit or --json)")


@data.command()
@series_options
@click.option(
    "--file",
    "file_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Check a Kraken OHLCVT CSV instead of the lake (timeframe from its name).",
)
@click.option("--start", default=None)
@click.option("--end", default=None)
@lake_options
@json_option
@click.pass_context
def validate(
    ctx: click.Context,
    exchange: str | None,
    pair: str | None,
    timeframe: str | None,
    file_path: str | None,
    start: str | None,
    end: str | None,
    lake_dir: str | None,
    manifest_path: str | None,
    as_json: bool,
) -> None:
    """Quality checks: OHLC consistency, volume, duplicates, off-grid and non-monotonic times, outlier returns.
    Exits with status 1 when an error-level check fails."""
    from tradecore.data.qc import check_candles

    if file_path:
        import polars as pl

        from tradecore.data.kraken_csv import parse_ohlcvt_name

        tf = timeframe or parse_ohlcvt_name(file_path)[1]
        frame = (
            pl.read_csv(
                file_path,
                has_header=False,
                new_columns=["time", "open", "high", "low", "close", "volume", "trades"],
                schema_overrides={"time": pl.Int64},
            )
            if Path(file_path).is_file()
            else None
        )
        if frame is None:
            raise click.BadParameter(f"{file_path}: no such file", param_hint="--file")
        frame = frame.with_columns(pl.col("time") * 1000)
        report = check_candles(frame, tf, label=file_path)
    else:
        lake = _lake(lake_dir, manifest_path)
        key = _pick_series(lake, exchange, pair, timeframe)
        _range(start, end)
        report = check_candles(lake.read(*key, start, end), key[2], label=" ".join(key))
    _emit(report.as_dict()) if as_json else click.echo(report.render())
    if not report.ok:
        ctx.exit(1)


@data.command()
@series_options
@click.option("--start", default=None)
@click.option("--end", default=None)
@click.option("--min-bars", type=int, default=1000, show_default=True, help="Shortest slice, in candles.")
@click.option(
    "--max-gap",
    "max_gap",
    type=int,
    default=60,
    show_default=True,
    help="A hole longer than this many bars ends a slice.",
)
@click.option("--min-coverage", type=float, default=0.95, show_default=True, help="Fraction of slots filled.")
@click.option("--keep-missing", is_flag=True, help="Do not split at holes classified as missing data.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write the manifest here.")
@lake_options
@json_option
def slices(
    exchange: str | None,
    pair: str | None,
    timeframe: str | None,
    start: str | None,
    end: str | None,
    min_bars: int,
    max_gap: int,
    min_coverage: float,
    keep_missing: bool,
    output: str | None,
    lake_dir: str | None,
    manifest_path: str | None,
    as_json: bool,
) -> None:
    """Contiguous windows meeting quality thresholds, as a small slices manifest for the environment."""
    from tradecore.data.slices import SliceRules, slices_manifest

    if min_bars < 1 or max_gap < 0 or not 0 < min_coverage <= 1:
        raise click.BadParameter("use --min-bars >= 1, --max-gap >= 0 and 0 < --min-coverage <= 1")
    lake = _lake(lake_dir, manifest_path)
    key = _pick_series(lake, exchange, pair, timeframe)
    _range(start, end)
    frame = lake.scan(*key, start, end).select("time", "trades", "origin").collect()
    doc = slices_manifest(frame, *key, SliceRules(min_bars, max_gap, min_coverage, not keep_missing), str(lake.root))
    if output:
        Path(output).write_text(json.dumps(doc, indent=2) + "\n")
    if as_json:
        _emit(doc)
        return
    from tradecore.cli.table import render_table

    click.echo(
        f"{len(doc['slices'])} slices, {doc['total_rows']:,} of {doc['rows']:,} candles"
        + (f"; written to {output}" if output else "")
    )
    if doc["slices"]:
        click.echo(
            render_table(
                ["from", "to", "rows", "coverage", "largest gap"],
                [
                    (s["start"], s["end"], f"{s['rows']:,}", f"{s['coverage']:.1%}", s["largest_gap_bars"])
                    for s in doc["slices"]
                ],
            )
        )


# ---------------------------------------------------------------- resample, export


@data.command()
@click.option("-e", "--exchange", default=None)
@click.option("-p", "--pair", default=None)
@click.option("--from", "source_tf", required=True, help="Stored timeframe to read (e.g. 1m).")
@click.option("--to", "target_tf", required=True, help="Coarser timeframe to build (e.g. 1h, 1d).")
@click.option("--start", default=None)
@click.option("--end", default=None)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write CSV/Parquet here (by suffix) instead of storing the result in the lake.",
)
@lake_options
@json_option
def resample(
    exchange: str | None,
    pair: str | None,
    source_tf: str,
    target_tf: str,
    start: str | None,
    end: str | None,
    output: str | None,
    lake_dir: str | None,
    manifest_path: str | None,
    as_json: bool,
) -> None:
    """Aggregate stored candles into a coarser timeframe (Kraken's conventions) and store them."""
    from tradecore.data.resample import resample as do_resample
    from tradecore.timeframes import is_multiple

    lake = _lake(lake_dir, manifest_path)
    key = _pick_series(lake, exchange, pair, source_tf)
    if not is_multiple(target_tf, source_tf) or target_tf == source_tf:
        raise click.BadParameter(f"{target_tf} is not a coarser whole multiple of {source_tf}", param_hint="--to")
    _range(start, end)
    out = do_resample(lake.scan(*key, start, end), source_tf, target_tf)
    result: dict[str, Any] = {"rows": out.height, "timeframe": target_tf}
    if output:
        _write_file(out, output)
        result["output"] = output
    else:
        written = []
        for origin, part in out.partition_by("origin", as_dict=True).items() if out.height else []:
            written.append(lake.write(key[0], key[1], target_tf, part, origin[0]).as_dict())
        result["writes"] = written
    _emit(result) if as_json else click.echo(
        f"{out.height:,} {target_tf} candles from {key[0]} {key[1]} {source_tf} "
        + (f"written to {output}" if output else "stored in the lake")
    )


def _write_file(frame: Any, output: str) -> None:
    path = Path(output)
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame.write_parquet(path)
        elif path.suffix.lower() == ".csv":
            frame.write_csv(path)
        else:
            raise click.BadParameter(f"{output}: use a .csv or .parquet file name", param_hint="--output")
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None


@data.command()
@series_options
@click.option("--start", default=None)
@click.option("--end", default=None)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet"]),
    default=None,
    help="Default: from the output suffix.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True)
@lake_options
@json_option
def export(
    exchange: str | None,
    pair: str | None,
    timeframe: str | None,
    start: str | None,
    end: str | None,
    fmt: str | None,
    output: str,
    lake_dir: str | None,
    manifest_path: str | None,
    as_json: bool,
) -> None:
    """Write the candles of a range to a CSV or Parquet file."""
    lake = _lake(lake_dir, manifest_path)
    key = _pick_series(lake, exchange, pair, timeframe)
    _range(start, end)
    frame = lake.read(*key, start, end)
    if fmt:
        try:
            frame.write_parquet(output) if fmt == "parquet" else frame.write_csv(output)
        except OSError as exc:
            raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    else:
        _write_file(frame, output)
    summary = {"rows": frame.height, "output": output, "series": list(key)}
    _emit(summary) if as_json else click.echo(f"{frame.height:,} candles of {' '.join(key)} written to {output}")


# ---------------------------------------------------------------- jobs, groups


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
    ctx.ensure_object(dict)["lake_root"] = _lake_root(lake_dir, manifest_path)
    if ctx.invoked_subcommand:
        return
    from tradecore.data.jobs import JobStore

    listed = JobStore(ctx.obj["lake_root"]).list(status=status, limit=limit)
    if as_json:
        _emit([j.as_dict() for j in listed])
        return
    if not listed:
        click.echo("no jobs")
        return
    from datetime import datetime

    from tradecore.cli.table import render_table

    click.echo(
        render_table(
            ["id", "kind", "what", "status", "progress", "rows", "updated", "error"],
            [
                (
                    j.id,
                    j.kind,
                    j.request.get("label", ""),
                    j.status,
                    f"{j.progress:.0%}",
                    f"{j.counts.get('rows', 0):,}",
                    datetime.fromtimestamp(j.updated, tz=UTC).strftime("%Y-%m-%d %H:%M"),
                    (j.error or "")[:60],
                )
                for j in listed
            ],
        )
    )


@jobs.command("show")
@click.argument("job_id", type=int)
@lake_options
@json_option
@click.pass_context
def jobs_show(ctx: click.Context, job_id: int, lake_dir: str | None, manifest_path: str | None, as_json: bool) -> None:
    """Everything recorded about one job."""
    from tradecore.data.jobs import JobStore

    root = _lake_root(lake_dir, manifest_path) if (lake_dir or manifest_path) else ctx.obj["lake_root"]
    job = JobStore(root).get(job_id).as_dict()
    if as_json:
        _emit(job)
        return
    for key, value in job.items():
        text = json.dumps(value, default=str) if isinstance(value, (dict, list)) else value
        click.echo(f"{key:>9}: {text}")


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
        path = set_group(set_name, _split((pairs,)), _split((timeframes,)) if timeframes else None)
        click.echo(f"group {set_name!r} saved in {path}")
        return
    known = groups()
    if as_json:
        _emit(known)
        return
    if not known:
        click.echo(
            f"no groups in {config_path()}; add one with `tradecore data groups --set majors --pairs BTC/USD,ETH/USD`"
        )
        return
    from tradecore.cli.table import render_table

    click.echo(
        render_table(
            ["group", "pairs", "timeframes"],
            [(n, ", ".join(g["pairs"]), ", ".join(g["timeframes"])) for n, g in known.items()],
        )
    )
