"""Shared options and helpers of the ``tradecore data`` commands: lake root, series, time ranges.

Exit codes follow the CLI's rule: a wrong command line (a bad date, start not before end, an invalid
timeframe, a path-like name) is a click.BadParameter naming the option, exit 2, raised before any
data is read; what the lake holds (no such series) or a failed read is a one-line error, exit 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tradecore.cli import UserError


def lake_root(lake: str | None, manifest: str | None) -> Path:
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


def check_timeframe(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An option callback: a ccxt-style timeframe, or BadParameter saying it is invalid."""
    from tradecore.timeframes import TimeframeError, timeframe_ms

    if value is not None:
        try:
            timeframe_ms(value)
        except TimeframeError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


def check_time(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An option callback: a UTC date or datetime, or BadParameter with the accepted forms."""
    parse_ms(value, f"--{param.name}")
    return value


def check_name(kind: str) -> Callable[[click.Context, click.Parameter, str | None], str | None]:
    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        from tradecore.data.lake import LakeError, exchange_dir, pair_dir

        if value is not None:
            try:
                exchange_dir(value) if kind == "exchange" else pair_dir(value)
            except LakeError as exc:
                raise click.BadParameter(str(exc)) from None
        return value

    return check


def series_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "-t", "--timeframe", default=None, callback=check_timeframe, help="Timeframe, ccxt style (1m, 1h, 1d)."
    )(func)
    func = click.option("-p", "--pair", default=None, callback=check_name("pair"), help="ccxt symbol, e.g. BTC/USD.")(
        func
    )
    return click.option(
        "-e", "--exchange", default=None, callback=check_name("exchange"), help="Exchange folder, e.g. kraken."
    )(func)


def range_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--start and --end, each checked as it is parsed (use :func:`parse_range` for their order)."""
    func = click.option("--end", default=None, callback=check_time, help="End of the range (exclusive).")(func)
    return click.option("--start", default=None, callback=check_time, help="Start of the range (UTC).")(func)


def open_lake(lake_dir: str | None, manifest_path: str | None) -> Any:
    from tradecore.data.lake import Lake

    return Lake(lake_root(lake_dir, manifest_path))


def emit(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def extra_params(extra: tuple[str, ...]) -> dict[str, Any]:
    """--param KEY=VALUE items; values are JSON when they parse, else strings."""
    params: dict[str, Any] = {}
    for item in extra:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}: use KEY=VALUE", param_hint="--param")
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def split_values(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def pick_series(lake: Any, exchange: str | None, pair: str | None, timeframe: str | None) -> tuple[str, str, str]:
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
        raise UserError(
            f"no candles stored for {exchange} {pair} {timeframe} in {lake.root}; stored: "
            f"{', '.join(stored) or 'nothing yet (run tradecore data fetch)'}"
        )
    if not keys:
        stored = [f"-e {k.exchange} -p {k.pair} -t {k.timeframe}" for k in lake.series()]
        raise UserError(
            f"no stored series matches in {lake.root}; "
            + (
                f"stored: {', '.join(stored[:8])}"
                if stored
                else "the lake is empty (run tradecore data fetch, or --lake DIR)"
            )
        )
    choices = ", ".join(f"-e {k.exchange} -p {k.pair} -t {k.timeframe}" for k in keys[:8])
    raise click.UsageError(f"several series match: give --exchange, --pair and --timeframe (choices: {choices})")


def parse_ms(value: str | None, name: str) -> int | None:
    from tradecore.data.lake import to_ms

    if value is None:
        return None
    try:
        return to_ms(value)
    except Exception as exc:  # noqa: BLE001 -- a user-typed date: one line, naming the option
        raise click.BadParameter(str(exc), param_hint=name) from None


def parse_range(start: str | None, end: str | None) -> tuple[int | None, int | None]:
    lo, hi = parse_ms(start, "--start"), parse_ms(end, "--end")
    if lo is not None and hi is not None and lo >= hi:
        raise click.BadParameter(f"start {start} is not before end {end}: swap them", param_hint="--start/--end")
    return lo, hi


def pairs_and_timeframes(
    pairs: tuple[str, ...], timeframes: tuple[str, ...], group_names: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    """--pair and --timeframe values, plus those of each --group (first mention wins the order); each
    checked here, so a wrong one is a command-line error (exit 2) before anything is fetched."""
    from tradecore.data.groups import group
    from tradecore.data.lake import LakeError, pair_dir
    from tradecore.errors import TradecoreError
    from tradecore.timeframes import TimeframeError, timeframe_ms

    pair_list = split_values(pairs)
    tf_list = split_values(timeframes)
    for name in group_names:
        try:
            g = group(name)
        except TradecoreError as exc:
            raise click.BadParameter(str(exc), param_hint="--group") from None
        pair_list += [p for p in g["pairs"] if p not in pair_list]
        tf_list += [t for t in g["timeframes"] if t not in tf_list]
    if not pair_list:
        raise click.UsageError("give --pair BTC/USD[,ETH/USD] or --group NAME")
    for pair in pair_list:
        try:
            pair_dir(pair)
        except LakeError as exc:
            raise click.BadParameter(str(exc), param_hint="--pair") from None
    for tf in tf_list:
        try:
            timeframe_ms(tf)
        except TimeframeError as exc:
            raise click.BadParameter(str(exc), param_hint="--timeframe") from None
    return pair_list, tf_list
