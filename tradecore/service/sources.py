"""The installed sources that can fill the lake, as forms and request checks see them: the lake exchange each
writes to, its timeframes, its markets and the warnings its :class:`ExchangeFacts` imply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tradecore.timeframes import timeframe_ms

if TYPE_CHECKING:
    from tradecore.data.exchange_facts import ExchangeFacts
    from tradecore.data.lake import Lake
    from tradecore.registry import Registry
    from tradecore.specs import ComponentSpec

#: the timeframes a form offers (the seed spec's list) unless the source's params name their own
COMMON_TIMEFRAMES = ("1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "2w")


@dataclass(frozen=True)
class FetchSourceInfo:
    name: str
    exchange: str
    spec: ComponentSpec
    facts: ExchangeFacts

    @property
    def fields(self) -> dict[str, Any]:
        return self.spec.params_model.model_fields

    def timeframes(self) -> list[str]:
        """What the source's params accept, tried against the common list (its validator is the judge)."""
        from pydantic import ValidationError

        field = self.fields.get("timeframe")
        if field is None:
            return list(COMMON_TIMEFRAMES)
        accepted = []
        for tf in COMMON_TIMEFRAMES:
            try:
                self.spec.params_model.model_validate({"timeframe": tf})
            except ValidationError as exc:
                if any(e["loc"][:1] == ("timeframe",) for e in exc.errors()):
                    continue
            accepted.append(tf)
        return accepted

    def markets(self, lake: Lake) -> list[str]:
        """Symbols the exchange offers without a network call, plus those already stored for it."""
        stored = [k.pair for k in lake.series() if k.exchange == self.exchange]
        return sorted(set(self.facts.markets) | set(stored))

    def as_dict(self, lake: Lake, max_bars: int) -> dict[str, Any]:
        facts = self.facts
        return {
            "name": self.name,
            "exchange": self.exchange,
            "description": self.spec.description,
            "timeframes": self.timeframes(),
            "markets": self.markets(lake),
            "any_symbol": not facts.markets,
            "history_start": facts.history_start,
            "rest_candle_limit": facts.rest_candle_limit,
            "trades_history": facts.trades_history,
            "dumps": facts.dump_option("BTC/USD", "1h", 0, 1) is not None,
            "max_bars": max_bars,
            "seed_from_zip": "dumps" in self.fields,
        }


def fetch_sources(registry: Registry) -> dict[str, FetchSourceInfo]:
    """Every installed source component that can fetch into the lake, by name (synthetic included)."""
    from tradecore.data.fetch_jobs import fetching_class

    found = {}
    for provided in registry.all("sources"):
        spec = provided.spec
        try:
            cls = fetching_class(spec)
        except Exception:  # noqa: BLE001 -- a plugin whose factory fails to load offers nothing to fetch
            continue
        if cls is None or spec.name in found:
            continue
        exchange = spec.meta.get("exchange", spec.name)
        if "exchange" in spec.params_model.model_fields and spec.params_model.model_fields["exchange"].is_required():
            continue  # a generic source (ccxt) needs an exchange id the seed's payload has no place for
        found[spec.name] = FetchSourceInfo(spec.name, exchange, spec, cls.exchange_facts(exchange))
    return found


def range_warnings(info: FetchSourceInfo, timeframe: str, start_ms: int, end_ms: int, max_bars: int) -> list[str]:
    """What a user should know before fetching [start_ms, end_ms): caps, slow paths, a range over the limit."""
    step = timeframe_ms(timeframe)
    bars = max(0, (end_ms - start_ms) // step)
    facts = info.facts
    out = []
    if bars > max_bars:
        out.append(
            f"{bars:,} {timeframe} candles is more than one request may ask for ({max_bars:,}); shorten the range"
        )
    if facts.rest_candle_limit is not None and bars > facts.rest_candle_limit:
        way = "trades history (rebuilt into candles, slow: many calls)" if facts.trades_history else "dumps"
        out.append(
            f"REST returns only the newest {facts.rest_candle_limit} candles per call; older candles come from {way}"
        )
    if timeframe == "1m" and bars > 366 * 1440:
        out.append(f"{bars:,} 1m candles is over a year: expect a long fetch and a large lake")
    return out
