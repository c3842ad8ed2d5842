"""Params of the ``kraken`` and ``ccxt`` source components (validated without importing ccxt)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tradecore.api import UtcDatetime, timeframe_ms

KRAKEN_TIMEFRAMES = ("1m", "5m", "15m", "30m", "1h", "4h", "12h", "1d", "1w", "2w")


class _FetchParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str = Field("BTC/USD", description="ccxt symbol, e.g. BTC/USD")
    timeframe: str = Field("1h", description="Bar length, ccxt style: 1m, 5m, 15m, 1h, 4h, 1d ...")
    start: UtcDatetime | None = Field(None, description="First bar (UTC); default: after the last stored bar")
    end: UtcDatetime | None = Field(None, description="End of the range, exclusive (UTC); default: now")
    max_retries: int = Field(6, ge=0, le=30, description="Retries per request on network errors, rate limits, 5xx")
    backoff_s: float = Field(1.0, ge=0, le=60, description="Base of the exponential backoff (full jitter)")
    rate_limit: bool = Field(True, description="Pace requests with ccxt's rate limiter (turn off only for tests)")
    rate_limit_ms: int | None = Field(None, ge=0, description="Override ccxt's rateLimit (ms between requests)")
    timeout_ms: int = Field(10_000, ge=100, description="HTTP timeout per request")
    lake: str | None = Field(None, description="Lake root; default --lake, TRADECORE_LAKE or the user data folder")
    api_url: str | None = Field(None, description="Send REST calls to this scheme://host[:port] (mirror, test server)")
    ws_url: str | None = Field(
        None, description="Open websocket streams (data stream) on this ws[s]://host[:port] (mirror, test server)"
    )

    @field_validator("symbol")
    @classmethod
    def _symbol(cls, value: str) -> str:
        from tradecore_kraken.pairs import SYMBOL_PATTERN

        if not SYMBOL_PATTERN.match(value):
            raise ValueError(f"symbol {value!r} is not a ccxt symbol: use BASE/QUOTE in capitals, e.g. BTC/USD")
        return value

    @field_validator("api_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"api_url {value!r} must start with http:// or https://")
        return value

    @field_validator("ws_url")
    @classmethod
    def _ws_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("ws://", "wss://")):
            raise ValueError(f"ws_url {value!r} must start with ws:// or wss://")
        return value

    @model_validator(mode="after")
    def _range(self) -> Any:
        if self.start and self.end and self.start >= self.end:
            raise ValueError(f"start {self.start.isoformat()} is not before end {self.end.isoformat()}: swap them")
        return self


class KrakenParams(_FetchParams):
    """Kraken candles from dumps, REST OHLC or trades rebuilt into candles."""

    method: Literal["auto", "dump", "rest", "trades"] = Field(
        "auto", description="auto: dumps, then trades, REST for the newest 720 bars; or force one way"
    )
    dumps: list[str] = Field(default_factory=list, description="Kraken OHLCVT CSVs or ZIPs to import first")

    @field_validator("timeframe")
    @classmethod
    def _timeframe(cls, value: str) -> str:
        if value not in KRAKEN_TIMEFRAMES:
            raise ValueError(f"Kraken has no {value!r} bars: use one of {', '.join(KRAKEN_TIMEFRAMES)}")
        return value


class CcxtParams(_FetchParams):
    """Any ccxt exchange whose OHLCV endpoint pages by ``since``."""

    exchange: str = Field(..., pattern=r"^[a-z][a-z0-9]{1,31}$", description="ccxt exchange id, e.g. binance")
    options: dict[str, Any] = Field(default_factory=dict, description="ccxt options for the exchange")
    page_limit: int = Field(1000, ge=1, le=5000, description="Candles per OHLCV request")

    @field_validator("timeframe")
    @classmethod
    def _timeframe(cls, value: str) -> str:
        timeframe_ms(value)
        return value
