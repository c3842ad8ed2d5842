"""Source components as the ``data`` commands use them: fetch units built from params, and what an
exchange can deliver (asked of its source, so the core names no exchange)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from tradecore.cli import get_runtime

if TYPE_CHECKING:
    from tradecore.data.exchange_facts import ExchangeFacts
    from tradecore.data.fetching import FetchingSource
    from tradecore.specs import ComponentSpec

#: the built-in synthetic source builds a plain DataSource; ``data fetch`` wraps it as a fetch unit
SYNTHETIC_FACTORY = "tradecore.data.synthetic:SyntheticSource"


def build_unit(ctx: click.Context, source: str, params: dict[str, Any]) -> tuple[FetchingSource, Any]:
    """The fetch unit of source ``source`` for ``params``, and its validated params model."""
    from pydantic import ValidationError

    from tradecore.data.fetching import FetchingSource
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
    if spec.factory == SYNTHETIC_FACTORY:
        from tradecore.data.synthetic_fetch import synthetic_fetcher

        return synthetic_fetcher(model), model
    unit = spec.build(model)
    if not isinstance(unit, FetchingSource):
        raise click.BadParameter(
            f"source {source!r} cannot fetch into the lake (it is not a FetchingSource); "
            "use a source such as kraken, ccxt or synthetic",
            param_hint="--source",
        )
    return unit, model


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


def fetching_class(spec: ComponentSpec) -> type[FetchingSource] | None:
    """The FetchingSource class a source spec builds (None for a source that cannot fetch)."""
    from tradecore.data.fetching import FetchingSource

    if spec.factory == SYNTHETIC_FACTORY:
        from tradecore.data.synthetic_fetch import SyntheticFetchSource

        return SyntheticFetchSource
    factory = spec.load_factory()
    return factory if isinstance(factory, type) and issubclass(factory, FetchingSource) else None


def source_for_exchange(ctx: click.Context, exchange: str) -> str:
    """The name of the fetching source whose spec serves ``exchange`` (``meta["exchange"]``), or a usage error
    asking for --source."""
    for provided in get_runtime(ctx).registry.all("sources"):
        if provided.spec.meta.get("exchange") == exchange and fetching_class(provided.spec) is not None:
            return provided.spec.name
    raise click.UsageError(f"no installed source serves the exchange {exchange!r}: give --source (e.g. ccxt)")


def exchange_facts(ctx: click.Context, exchange: str) -> ExchangeFacts:
    """What ``exchange`` can deliver, asked of the source whose spec names it in ``meta["exchange"]``;
    a generic exchange when no loaded source does."""
    from tradecore.data.exchange_facts import ExchangeFacts

    for provided in get_runtime(ctx).registry.all("sources"):
        if provided.spec.meta.get("exchange") == exchange:
            source_class = fetching_class(provided.spec)
            if source_class is not None:
                return source_class.exchange_facts(exchange)
    return ExchangeFacts()
