"""Budget limits for paid pods: from the manifest and the user's config file; the stricter one wins."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradecore_runpod.errors import BudgetError

CONFIG_ENV = "TRADECORE_RUNPOD_CONFIG"


def user_config_path() -> Path:
    """``$TRADECORE_RUNPOD_CONFIG``, else ``<user config dir>/tradecore/runpod.toml`` with a ``[budget]`` table."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV]).expanduser()
    from platformdirs import user_config_path as config_dir

    return config_dir("tradecore", appauthor=False) / "runpod.toml"


@dataclass(frozen=True)
class Limits:
    max_cost_usd: float | None
    max_hourly_usd: float | None
    max_concurrent_pods: int | None
    allow_unlimited: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "max_cost_usd": self.max_cost_usd,
            "max_hourly_usd": self.max_hourly_usd,
            "max_concurrent_pods": self.max_concurrent_pods,
            "allow_unlimited": self.allow_unlimited,
        }


def _stricter(a: Any, b: Any) -> Any:
    values = [v for v in (a, b) if v is not None]
    return min(values) if values else None


def read_user_budget(path: Path | None = None) -> dict[str, Any]:
    path = path or user_config_path()
    if not path.is_file():
        return {}
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BudgetError(f"cannot read {path}: {exc}; fix its [budget] table") from None
    budget = data.get("budget") or {}
    allowed = {"max_cost_usd", "max_hourly_usd", "max_concurrent_pods", "allow_unlimited"}
    unknown = set(budget) - allowed
    if unknown:
        raise BudgetError(
            f"{path}: unknown [budget] key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))}"
        )
    return budget


def effective_limits(params: Any) -> Limits:
    """Manifest limits combined with the user's: each limit is the stricter of the two.

    Refuses (BudgetError) when no cost limit is set anywhere and ``allow_unlimited`` is not set.
    """
    user = read_user_budget()
    limits = Limits(
        max_cost_usd=_stricter(params.max_cost_usd, user.get("max_cost_usd")),
        max_hourly_usd=_stricter(params.max_hourly_usd, user.get("max_hourly_usd")),
        max_concurrent_pods=_stricter(params.max_concurrent_pods, user.get("max_concurrent_pods")),
        allow_unlimited=bool(params.allow_unlimited or user.get("allow_unlimited", False)),
    )
    if limits.max_cost_usd is None and limits.max_hourly_usd is None and not limits.allow_unlimited:
        raise BudgetError(
            "backend.params: runpod is a paid backend and no budget limit is set; add max_cost_usd "
            f"and max_hourly_usd to backend.params or to [budget] in {user_config_path()} "
            "(or set allow_unlimited: true to launch without limits)"
        )
    return limits


def estimate_usd(price_per_gpu_hr: float, gpu_count: int, hours: float) -> float:
    """Worst-case cost of one pod: list price per GPU-hour x GPUs x the run's max hours."""
    return price_per_gpu_hr * gpu_count * hours
