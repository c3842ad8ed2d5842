"""Source components as the ``data`` commands use them: fetch units built from params, and what an
exchange can deliver (asked of its source, so the core names no exchange)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from tradecore.cli import get_runtime

if TYPE_CHECKING:
    from tradecore.data.exchange_facts import ExchangeFacts
    from tradecore.data.fetching import FetchingSource


def build_unit(ctx: click.Context, source: str, params: dict[str, Any]) -> tuple[FetchingSource, Any]:
    """The fetch unit of source ``source`` for ``params``, and its validated params model; a bad source or
    params is a command-line error naming the option."""
    from tradecore.data.fetch_jobs import FetchUnitError, build_fetch_unit

    try:
        return build_fetch_unit(get_runtime(ctx).registry, source, params)
    except FetchUnitError as exc:
        raise click.BadParameter(str(exc), param_hint="--source" if exc.field == "source" else "--param") from None


def window_unit(
    ctx: click.Context, source: str, params: dict[str, Any], start_ms: int, end_ms: int
) -> tuple[FetchingSource, Any]:
    """A fetch unit of ``source`` that fills only [start_ms, end_ms), from ``params`` (a fetch job's, say).

    Sources take the window as their ``start`` and ``end``; the synthetic source instead generates the
    series its params describe (when it holds the window) and writes the window's bars only, so a repaired
    hole holds the candles a clean fetch with those params would."""
    from datetime import UTC, datetime

    from tradecore.data.lake import to_ms
    from tradecore.timeframes import timeframe_ms

    def iso(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()

    window = {**params, "start": iso(start_ms), "end": iso(end_ms)}
    from tradecore.registry import LookupFailure

    try:
        spec = get_runtime(ctx).component("sources", source).spec
    except LookupFailure:
        return build_unit(ctx, source, window)  # which names the known sources
    from tradecore.data.fetch_jobs import SYNTHETIC_FACTORY

    if spec.factory == SYNTHETIC_FACTORY and "start" in params and "bars" in params:
        model = spec.params_model.model_validate(
            {k: v for k, v in params.items() if k in spec.params_model.model_fields}
        )
        first = to_ms(model.start)
        first -= first % timeframe_ms(model.timeframe)
        if first <= start_ms and end_ms <= first + model.bars * timeframe_ms(model.timeframe):
            from tradecore.data.synthetic_fetch import synthetic_fetcher

            return synthetic_fetcher(model, (start_ms, end_ms)), model
        window.pop("bars")
    return build_unit(ctx, source, window)


def source_for_exchange(ctx: click.Context, exchange: str) -> str:
    """The name of the fetching source whose spec serves ``exchange`` (``meta["exchange"]``), or a usage error
    asking for --source."""
    from tradecore.data.fetch_jobs import fetching_class

    for provided in get_runtime(ctx).registry.all("sources"):
        if provided.spec.meta.get("exchange") == exchange and fetching_class(provided.spec) is not None:
            return provided.spec.name
    raise click.UsageError(f"no installed source serves the exchange {exchange!r}: give --source (e.g. ccxt)")


def exchange_facts(ctx: click.Context, exchange: str) -> ExchangeFacts:
    """What ``exchange`` can deliver (see :func:`tradecore.data.fetch_jobs.exchange_facts`)."""
    from tradecore.data.fetch_jobs import exchange_facts as facts_of

    return facts_of(get_runtime(ctx).registry, exchange)
