"""ccxt exchange construction and calls with capped exponential backoff + full jitter.

Retried: ccxt's NetworkError family (DDoSProtection, RateLimitExceeded, ExchangeNotAvailable,
OnMaintenance, RequestTimeout) and malformed bodies. Not retried: a host that cannot be reached at all
(connection refused, a name that does not resolve, no route: the network is absent, and waiting will
not bring it back within a retry budget), and BadSymbol, BadRequest and every
other ExchangeError -- they fail at once with one line. ccxt maps HTTP 404/403 to
ExchangeNotAvailable too, so a wrong URL is retried until the cap; the last error is kept.
"""

from __future__ import annotations

import errno
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse, urlunparse

import ccxt

from tradecore_kraken.errors import KrakenError, Unreachable

#: socket errors that mean "no way to the host" rather than a transient failure
_NO_ROUTE = {errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH}


class MalformedResponse(ccxt.NetworkError):
    """A body that is not the JSON object the endpoint promises (truncated, HTML, ...)."""


@dataclass
class RetryPolicy:
    """How hard to try: ``attempts`` calls at most, sleeping ``uniform(0, min(cap, base * 2**n))``."""

    max_retries: int = 6
    base_s: float = 1.0
    cap_s: float = 60.0
    maintenance_factor: float = 5.0  # OnMaintenance: wait longer before asking again
    seed: int | None = None
    sleep: Callable[[float], None] = time.sleep
    retries: dict[str, int] = field(default_factory=dict)  # error class -> count, for job messages

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def delay(self, attempt: int, exc: Exception) -> float:
        bound = min(self.cap_s, self.base_s * 2**attempt)
        if isinstance(exc, ccxt.OnMaintenance):
            bound = min(self.cap_s * self.maintenance_factor, bound * self.maintenance_factor)
        return self._rng.uniform(0, bound)

    def call(self, what: str, fn: Callable[[], Any], check: Callable[[Any], Any] | None = None) -> Any:
        """``fn()`` (then ``check(result)``, which may raise a NetworkError to retry) with retries."""
        last: Exception | None = None
        for attempt in range(self.max_retries + 1):
            try:
                result = fn()
                return check(result) if check else result
            except (ccxt.BadSymbol, ccxt.BadRequest) as exc:
                raise KrakenError(f"{what}: {first_line(exc)}; check the symbol and timeframe") from exc
            except ccxt.NetworkError as exc:
                reason = unreachable(exc)
                if reason is not None:
                    raise Unreachable(f"{what}: {reason}; check the network (or api_url)") from exc
                last = exc
                name = type(exc).__name__
                self.retries[name] = self.retries.get(name, 0) + 1
                if attempt < self.max_retries:
                    self.sleep(self.delay(attempt, exc))
            except ccxt.ExchangeError as exc:
                raise KrakenError(f"{what}: {first_line(exc)}") from exc
        raise KrakenError(
            f"{what}: gave up after {self.max_retries + 1} attempts, last error {type(last).__name__}: "
            f"{first_line(last)}; rerun the same command to resume, or raise max_retries"
        ) from last


def unreachable(exc: BaseException) -> str | None:
    """Why the host cannot be reached at all, read from the cause chain (ccxt -> requests -> urllib3 ->
    socket); None for anything that may pass (timeouts, resets, HTTP errors)."""
    import requests
    import urllib3

    node: BaseException | None = exc
    seen: set[int] = set()
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        if isinstance(node, socket.gaierror):
            return f"cannot resolve the host name ({node.strerror or node}; offline?)"
        if isinstance(node, OSError) and node.errno in _NO_ROUTE:
            return f"cannot connect ({node.strerror})"
        if isinstance(node, urllib3.exceptions.MaxRetryError):
            node = node.reason
        elif isinstance(node, requests.exceptions.ConnectionError) and node.args:
            node = node.args[0] if isinstance(node.args[0], BaseException) else node.__cause__
        else:
            node = node.__cause__ or node.__context__
    return None


def first_line(exc: BaseException | None) -> str:
    text = str(exc).strip() if exc is not None else ""
    return (text.splitlines() or [type(exc).__name__])[0][:200]


def rehost(url: str, api_url: str) -> str:
    """``url`` with scheme and host taken from ``api_url`` (the path stays): mirrors and test servers."""
    target = urlparse(api_url.rstrip("/"))
    parsed = urlparse(url)
    path = target.path + parsed.path if target.path else parsed.path
    return urlunparse((target.scheme, target.netloc, path, "", "", ""))


def rehost_tree(node: Any, api_url: str, schemes: tuple[str, ...] = ("http://", "https://")) -> Any:
    """Every URL in ``node`` (a ccxt ``urls`` tree) that starts with one of ``schemes``, rehosted."""
    if isinstance(node, str) and node.startswith(schemes):
        return rehost(node, api_url)
    if isinstance(node, dict):
        return {k: rehost_tree(v, api_url, schemes) for k, v in node.items()}
    return node


def make_exchange(
    exchange_id: str,
    *,
    rate_limit: bool = True,
    rate_limit_ms: int | None = None,
    api_url: str | None = None,
    timeout_ms: int = 10_000,
    options: dict[str, Any] | None = None,
) -> ccxt.Exchange:
    """A real ccxt exchange instance; ``api_url`` points all its REST hosts at another server."""
    if exchange_id not in ccxt.exchanges:
        from difflib import get_close_matches

        close = get_close_matches(exchange_id, ccxt.exchanges, n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "see ccxt.exchanges for the list"
        raise KrakenError(f"unknown ccxt exchange {exchange_id!r}: {hint}")
    config: dict[str, Any] = {"enableRateLimit": rate_limit, "timeout": timeout_ms}
    if rate_limit_ms is not None:
        config["rateLimit"] = rate_limit_ms
    if options:
        config["options"] = options
    exchange = getattr(ccxt, exchange_id)(config)
    if api_url:
        exchange.urls["api"] = rehost_tree(exchange.urls["api"], api_url)
    return exchange


def load_markets(exchange: ccxt.Exchange, policy: RetryPolicy) -> dict[str, Any]:
    return policy.call(f"{exchange.id} load_markets", exchange.load_markets)


def market_for(exchange: ccxt.Exchange, symbol: str) -> dict[str, Any]:
    """The ccxt market of ``symbol``; an unknown one names close valid symbols."""
    if symbol in exchange.markets:
        return exchange.markets[symbol]
    from difflib import get_close_matches

    close = get_close_matches(symbol, list(exchange.markets), n=4, cutoff=0.5)
    hint = f"valid choices include {', '.join(close)}" if close else f"{len(exchange.markets)} markets available"
    raise KrakenError(f"{exchange.id} has no market {symbol!r}: {hint}")


def result_of(response: Any) -> dict[str, Any]:
    """Kraken's ``result`` object, or MalformedResponse (retried) when the body is not one."""
    if not isinstance(response, dict) or not isinstance(response.get("result"), dict):
        raise MalformedResponse(f"malformed Kraken response: {str(response)[:80]!r}")
    return response["result"]
