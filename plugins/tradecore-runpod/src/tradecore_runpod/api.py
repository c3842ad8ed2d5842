"""A small client for RunPod's REST API v2 (pods, GPU catalog, network volumes) plus the one GraphQL account query.

REST v1 is retired and GraphQL retires in early 2027 (see the compute notes), so pods go through
``{base}/v2``. The base URL is ``RUNPOD_API_BASE_URL`` (the SDK's own override), default
``https://api.runpod.io``. Bodies are JSON, so user values need no escaping; queries are constants.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tradecore_runpod.credentials import Redactor
from tradecore_runpod.errors import (
    AccountUnknown,
    AuthError,
    CapacityError,
    ConfigError,
    InsufficientFundsError,
    PodGone,
    RunpodError,
    TransientError,
)

BASE_URL_ENV = "RUNPOD_API_BASE_URL"
DEFAULT_BASE_URL = "https://api.runpod.io"
ACCOUNT_QUERY = "query { myself { clientBalance currentSpendPerHr spendLimit } }"
NO_CAPACITY = "no longer any instances available"
FUNDS_WORDS = ("balance", "credit", "fund", "spend limit", "spending limit")


@dataclass(frozen=True)
class GpuType:
    id: str
    display_name: str
    memory_gb: float | None
    price_secure: float | None
    price_community: float | None
    stock: dict[str, str]  # data center -> stock level, when the catalog says

    def price(self, cloud: str) -> float | None:
        return self.price_secure if cloud == "SECURE" else self.price_community

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> GpuType:
        price = item.get("price") or {}
        stock: dict[str, str] = {}
        for entry in item.get("availability") or []:
            if isinstance(entry, dict) and entry.get("dataCenterId"):
                stock[str(entry["dataCenterId"])] = str(entry.get("stockStatus") or entry.get("stock") or "")
        return cls(
            id=str(item["id"]),
            display_name=str(item.get("displayName") or item["id"]),
            memory_gb=item.get("memoryInGb"),
            price_secure=price.get("secure"),
            price_community=price.get("community"),
            stock=stock,
        )


@dataclass(frozen=True)
class Account:
    balance: float | None
    spend_per_hr: float | None
    spend_limit: float | None


class RunpodApi:
    """REST v2 calls with typed errors, ``Retry-After`` handling and bounded retries of safe requests."""

    def __init__(
        self,
        key: str,
        *,
        base_url: str | None = None,
        timeout_s: float = 30.0,
        retries: int = 4,
        max_retry_after_s: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import httpx

        self.base_url = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
        self.redact = Redactor(key)
        self.retries, self.max_retry_after_s, self.sleep = retries, max_retry_after_s, sleep
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout_s,
            headers={
                "Authorization": f"Bearer {key}",
                "User-Agent": "tradecore-runpod/0.1",
                "Accept": "application/json",
            },
        )

    def close(self) -> None:
        self._http.close()

    # -- transport ------------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        idempotent: bool = True,
    ) -> Any:
        """One call; 429 waits for ``Retry-After``; 5xx and network errors retry only when ``idempotent``."""
        import httpx

        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.request(method, path, json=json, params=params, headers=headers)
            except httpx.HTTPError as exc:
                if idempotent and attempt <= self.retries:
                    self.sleep(min(2.0**attempt, 30.0))
                    continue
                raise TransientError(self.redact(f"RunPod {method} {path}: {type(exc).__name__}: {exc}")) from None
            status = response.status_code
            if status == 429 and attempt <= self.retries:
                self.sleep(self._retry_after(response))
                continue
            if status >= 500 and idempotent and attempt <= self.retries:
                self.sleep(min(2.0**attempt, 30.0))
                continue
            if status >= 400:
                raise self._error(method, path, response)
            if status == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise TransientError(f"RunPod {method} {path}: answer is not JSON (HTTP {status})") from None

    def _retry_after(self, response: Any) -> float:
        try:
            wait = float(response.headers.get("Retry-After", "5"))
        except ValueError:
            wait = 5.0
        return max(0.0, min(wait, self.max_retry_after_s))

    def _error(self, method: str, path: str, response: Any) -> RunpodError:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        detail = ""
        if isinstance(body, dict):
            detail = str(body.get("detail") or body.get("message") or body.get("title") or "")
        detail = self.redact(detail or response.reason_phrase or "")[:300]
        where = f"RunPod {method} {path} -> HTTP {status}"
        if status == 401:
            return AuthError(f"{where}: the API key was rejected; check RUNPOD_API_KEY or ~/.runpod/config.toml")
        if status == 402:
            return InsufficientFundsError(
                f"{where}: insufficient balance ({detail}); add credit at runpod.io "
                "> Billing, no GPU type will succeed until then"
            )
        if status == 403:
            return ConfigError(f"{where}: not allowed ({detail}); the key lacks this permission or pool")
        if status == 404:
            return PodGone(f"{where}: not found ({detail})")
        if status == 429:
            return TransientError(f"{where}: rate limited and still limited after {self.retries} retries")
        if status >= 500:
            return TransientError(f"{where}: RunPod server error ({detail}); try again later")
        if NO_CAPACITY in detail.lower():
            return CapacityError(f"{where}: no capacity: {detail}")
        if any(word in detail.lower() for word in FUNDS_WORDS):
            return InsufficientFundsError(f"{where}: {detail}")
        return ConfigError(f"{where}: {detail}")

    # -- endpoints --------------------------------------------------------------------------------------
    def gpu_types(self, *, cloud: str = "SECURE", count: int = 1) -> list[GpuType]:
        data = self.request(
            "GET",
            "/v2/catalog/gpus",
            params={"product": "POD", "count": count, "cloud": cloud, "include": "AVAILABILITY"},
        )
        items = data.get("gpuTypes", []) if isinstance(data, dict) else data or []
        return [GpuType.from_json(item) for item in items if isinstance(item, dict) and item.get("id")]

    def network_volume(self, volume_id: str) -> dict[str, Any]:
        from urllib.parse import quote

        try:
            return self.request("GET", f"/v2/network-volumes/{quote(volume_id, safe='')}")
        except PodGone:
            raise ConfigError(
                f"network volume {volume_id!r} not found in this RunPod account; list yours at runpod.io > Storage"
            ) from None

    def create_pod(self, body: dict[str, Any]) -> dict[str, Any]:
        # not idempotent: a 5xx may still have created the pod; the caller reconciles by name
        return self.request("POST", "/v2/pods", json=body, idempotent=False)

    def get_pod(self, pod_id: str) -> dict[str, Any]:
        return self.request("GET", f"/v2/pods/{_segment(pod_id)}")

    def list_pods(self) -> list[dict[str, Any]]:
        data = self.request("GET", "/v2/pods")
        return data.get("pods", []) if isinstance(data, dict) else data or []

    def terminate_pod(self, pod_id: str) -> None:
        try:
            self.request("DELETE", f"/v2/pods/{_segment(pod_id)}")
        except PodGone:
            pass  # already gone: what we wanted

    def pod_logs(self, pod_id: str, *, after: str | None = None, tail: int = 200) -> list[tuple[str, str]]:
        """New log events as ``(event id, line)``; ``after`` is the last id already seen (SSE Last-Event-ID)."""
        headers = {"Accept": "text/event-stream"}
        if after:
            headers["Last-Event-ID"] = after
        response = self._http.get(f"/v2/pods/{_segment(pod_id)}/logs", params={"tail": tail}, headers=headers)
        if response.status_code >= 400:
            raise self._error("GET", f"/v2/pods/{pod_id}/logs", response)
        return parse_sse(response.text)

    def account(self) -> Account:
        """Balance and spend limit. REST v2 has no such endpoint, so this asks GraphQL while RunPod keeps it;
        raises :class:`AccountUnknown` (with the reason) when the figures cannot be read."""
        try:
            data = self.request("POST", "/graphql", json={"query": ACCOUNT_QUERY})
        except PodGone as exc:  # the query's endpoint is gone (410 Gone answers as a ConfigError below)
            raise AccountUnknown(f"RunPod no longer answers the balance query ({exc})") from None
        except (ConfigError, TransientError) as exc:
            raise AccountUnknown(str(exc)) from None
        me = ((data or {}).get("data") or {}).get("myself") if isinstance(data, dict) else None
        if not isinstance(me, dict):
            raise AccountUnknown("RunPod's answer to the balance query holds no account")
        return Account(
            balance=_number(me.get("clientBalance")),
            spend_per_hr=_number(me.get("currentSpendPerHr")),
            spend_limit=_number(me.get("spendLimit")),
        )


def parse_sse(text: str) -> list[tuple[str, str]]:
    """Server-sent events -> ``(id, data)`` pairs (multi-line data joined with newlines)."""
    events, event_id, data = [], "", []
    for line in text.splitlines():
        if not line:
            if data:
                events.append((event_id, "\n".join(data)))
            event_id, data = "", []
        elif line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    if data:
        events.append((event_id, "\n".join(data)))
    return events


def _segment(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
