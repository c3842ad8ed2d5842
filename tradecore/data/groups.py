"""Named pair groups (the earlier prototype's asset tiers) kept in the user's config file.

``$TRADECORE_CONFIG`` or ``<user config dir>/tradecore/config.json``::

    {"groups": {"majors": ["BTC/USD", "ETH/USD"],
                "alts": {"pairs": ["SOL/USD", "ADA/USD"], "timeframes": ["1h"]}}}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tradecore.errors import TradecoreError

CONFIG_ENV = "TRADECORE_CONFIG"


def config_path() -> Path:
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV]).expanduser()
    from platformdirs import user_config_path

    return user_config_path("tradecore", appauthor=False) / "config.json"


def load_config(path: Path | None = None) -> dict[str, Any]:
    path = path or config_path()
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise TradecoreError(f"cannot read the config {path}: {exc}; fix the JSON or remove the file") from None
    if not isinstance(data, dict):
        raise TradecoreError(f'config {path} must hold a JSON object such as {{"groups": {{...}}}}')
    return data


def groups(path: Path | None = None) -> dict[str, dict[str, list[str]]]:
    """Every group as ``{"pairs": [...], "timeframes": [...]}`` (timeframes may be empty)."""
    raw = load_config(path).get("groups", {})
    if not isinstance(raw, dict):
        raise TradecoreError(f"'groups' in {path or config_path()} must map names to lists of pairs")
    out = {}
    for name, value in raw.items():
        if isinstance(value, list):
            value = {"pairs": value}
        if not isinstance(value, dict) or not isinstance(value.get("pairs", []), list):
            raise TradecoreError(
                f"group {name!r} in {path or config_path()}: use a list of pairs or "
                '{"pairs": [...], "timeframes": [...]}'
            )
        out[name] = {
            "pairs": [str(p) for p in value.get("pairs", [])],
            "timeframes": [str(t) for t in value.get("timeframes", [])],
        }
    return out


def group(name: str, path: Path | None = None) -> dict[str, list[str]]:
    known = groups(path)
    if name not in known:
        choices = ", ".join(sorted(known)) or "none defined"
        raise TradecoreError(
            f'unknown pair group {name!r} (known: {choices}); define it under "groups" in '
            f"{path or config_path()} or with `tradecore data groups --set {name} BTC/USD,ETH/USD`"
        )
    return known[name]


def set_group(name: str, pairs: list[str], timeframes: list[str] | None = None, path: Path | None = None) -> Path:
    """Create or replace a group (atomic rewrite of the config file)."""
    path = path or config_path()
    data = load_config(path)
    entry: Any = {"pairs": pairs, "timeframes": timeframes} if timeframes else list(pairs)
    data.setdefault("groups", {})[name] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)
    return path
