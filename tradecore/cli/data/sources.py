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


def exchange_facts(ctx: click.Context, exchange: str) -> ExchangeFacts:
    """What ``exchange`` can deliver (see :func:`tradecore.data.fetch_jobs.exchange_facts`)."""
    from tradecore.data.fetch_jobs import exchange_facts as facts_of

    return facts_of(get_runtime(ctx).registry, exchange)
