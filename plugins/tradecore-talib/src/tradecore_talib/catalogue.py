"""TA-Lib's function metadata (inputs, params, outputs), cached per installed ta-lib version.

``import talib`` also imports pandas and polars when present (over a second on a busy machine), so
listing reads a JSON copy of the metadata written the first time, keyed by the ``ta-lib`` version:
upgrading TA-Lib rebuilds it. Everything in it comes from ``talib.abstract.Function(name).info``.
"""

from __future__ import annotations

import json
import os
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
#: functions whose inputs are not candle columns (MAVP needs a per-bar array of periods)
UNSUPPORTED = {"MAVP": "its 'periods' input is a per-bar array, not a candle column"}
FORMAT = 1


def cache_path(version: str) -> Path:
    root = os.environ.get("TRADECORE_CACHE")
    if root:
        base = Path(root)
    else:
        from platformdirs import user_cache_dir

        base = Path(user_cache_dir("tradecore"))
    return base / f"talib-catalogue-{version}-v{FORMAT}.json"


def installed_version() -> str:
    try:
        return metadata.version("ta-lib")
    except metadata.PackageNotFoundError:
        import talib

        return str(talib.__version__)


def read_metadata() -> dict[str, dict[str, Any]]:
    """Ask TA-Lib itself: one entry per function, in TA-Lib's group order."""
    import talib
    from talib import abstract

    catalogue = {}
    for name in talib.get_functions():
        info = abstract.Function(name).info
        catalogue[name] = {
            "group": info["group"],
            "display_name": info["display_name"],
            "inputs": {k: v if isinstance(v, str) else list(v) for k, v in info["input_names"].items()},
            "parameters": dict(info["parameters"]),
            "outputs": list(info["output_names"]),
            "flags": list(info.get("function_flags") or []),
        }
    return catalogue


def load_catalogue() -> dict[str, dict[str, Any]]:
    """The cached catalogue, rebuilt from TA-Lib when missing, unreadable or for another version."""
    path = cache_path(installed_version())
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") == FORMAT and isinstance(data.get("functions"), dict):
            return data["functions"]
    except (OSError, ValueError):
        pass
    functions = read_metadata()
    _write_atomically(path, {"format": FORMAT, "functions": functions})
    return functions


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    # a read-only cache dir only costs the next listing another talib import
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(tmp, path)
    except OSError:
        pass
