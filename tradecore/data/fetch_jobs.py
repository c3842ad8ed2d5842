"""The one code path that turns a source component and params into candles in the lake, as a persisted job.

``tradecore data fetch`` and the web service's worker processes both build a fetch unit with
:func:`build_fetch_unit` and run it with :func:`fetch_job_with_progress`, so a job started in one can be resumed in
the other: the job row holds everything needed (source, params, cursor).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradecore.errors import TradecoreError

if TYPE_CHECKING:
    from tradecore.data.exchange_facts import ExchangeFacts
    from tradecore.data.fetching import FetchingSource
    from tradecore.data.jobs import Job, JobStore
    from tradecore.data.lake import Lake
    from tradecore.registry import Registry
    from tradecore.specs import ComponentSpec

#: the built-in synthetic source builds a plain DataSource; fetching wraps it as a fetch unit
SYNTHETIC_FACTORY = "tradecore.data.synthetic:SyntheticSource"


class FetchUnitError(TradecoreError):
    """A source or params that cannot make a fetch unit; ``field`` is ``source`` or the params key at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def fetch_params(spec: ComponentSpec, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` as the source's model takes them: ``end`` becomes ``bars`` for sources that count bars (the
    synthetic one), and ``end``/``lake`` are dropped where the model has no such field."""
    fields = spec.params_model.model_fields
    params = dict(params)
    if "end" in params and "end" not in fields and "bars" in fields and "start" in params:
        from tradecore.data.lake import to_ms
        from tradecore.timeframes import timeframe_ms

        step = timeframe_ms(params.get("timeframe") or fields["timeframe"].default)
        params["bars"] = max(1, (to_ms(params.pop("end")) - to_ms(params["start"])) // step)
    return {k: v for k, v in params.items() if k in fields or k not in ("end", "lake")}


def build_fetch_unit(registry: Registry, source: str, params: dict[str, Any]) -> tuple[FetchingSource, Any]:
    """The fetch unit of source ``source`` for ``params``, and its validated params model."""
    from pydantic import ValidationError

    from tradecore.data.fetching import FetchingSource
    from tradecore.registry import LookupFailure

    try:
        provided = registry.lookup("sources", source)
    except LookupFailure as exc:
        hint = f"; {exc.hint}" if exc.hint else ""
        raise FetchUnitError(f"{exc.message}{hint}", "source") from None
    spec = provided.spec
    try:
        model = spec.params_model.model_validate(fetch_params(spec, params))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "params"
        raise FetchUnitError(f"{where}: {err['msg']} (source {source!r})", where) from None
    if spec.factory == SYNTHETIC_FACTORY:
        from tradecore.data.synthetic_fetch import synthetic_fetcher

        return synthetic_fetcher(model), model
    unit = spec.build(model)
    if not isinstance(unit, FetchingSource):
        raise FetchUnitError(
            f"source {source!r} cannot fetch into the lake (it is not a FetchingSource); "
            "use a source such as kraken, ccxt or synthetic",
            "source",
        )
    return unit, model


def fetching_class(spec: ComponentSpec) -> type[FetchingSource] | None:
    """The FetchingSource class a source spec builds (None for a source that cannot fetch)."""
    from tradecore.data.fetching import FetchingSource

    if spec.factory == SYNTHETIC_FACTORY:
        from tradecore.data.synthetic_fetch import SyntheticFetchSource

        return SyntheticFetchSource
    factory = spec.load_factory()
    return factory if isinstance(factory, type) and issubclass(factory, FetchingSource) else None


def exchange_facts(registry: Registry, exchange: str) -> ExchangeFacts:
    """What ``exchange`` can deliver, asked of the source whose spec names it in ``meta["exchange"]``;
    a generic exchange when no loaded source does."""
    from tradecore.data.exchange_facts import ExchangeFacts

    for provided in registry.all("sources"):
        if provided.spec.meta.get("exchange") == exchange:
            source_class = fetching_class(provided.spec)
            if source_class is not None:
                return source_class.exchange_facts(exchange)
    return ExchangeFacts()


def fetch_job_with_progress(
    unit: FetchingSource, lake: Lake, jobs: JobStore, job: Job, label: str, quiet: bool
) -> dict[str, Any]:
    """Run ``unit`` inside ``job`` (:func:`tradecore.data.fetching.run_fetch_job`) behind a progress bar over the
    planned range; the job's outcome as the ``data fetch`` commands print it."""
    from tradecore.data.fetching import Progress, run_fetch_job
    from tradecore.timeframes import timeframe_ms

    steps = unit.plan(lake)
    start = min((s.start_ms for s in steps), default=0)
    end = max((s.end_ms for s in steps), default=start + 1)
    step_ms = timeframe_ms(job.request.get("params", {}).get("timeframe", "1m"))
    progress = Progress(start, end, label, enabled=None if not quiet else False, step_ms=step_ms)
    try:
        result = run_fetch_job(unit, lake, jobs, job, progress)
    finally:
        progress.close()
    return {"job": job.id, "unit": label, **result.as_dict()}
