"""Run folders: layout, creation, lookup by name, reproducibility records, data fingerprints, archives.

A run folder ``runs/<UTC timestamp>-<name>/`` holds everything needed to inspect or reproduce a run::

    manifest.json        the resolved manifest (every default filled in)
    manifest.input.json  the manifest exactly as given (what --resume re-resolves)
    run.json             status, plugins and versions, Python and packages, seeds, data fingerprint, stages
    model/               final model (+ VecNormalize stats), best model on validation
    checkpoints/         periodic and interrupt checkpoints (what --resume continues from)
    tensorboard/         TensorBoard logs
    training.csv         validation-score curve
    evaluation/          recorded rollouts of the agent and baselines (report input)
    metrics.json         test-split metrics of the agent and each baseline
    report.html, plots/  the report
    logs/run.log         the run's log
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradecore.errors import TradecoreError
from tradecore.owner import owner_gone
from tradecore.paths import default_runs_root

if TYPE_CHECKING:
    from tradecore.interfaces import Candles

RUN_FILE = "run.json"
MANIFEST_FILE = "manifest.json"
INPUT_MANIFEST_FILE = "manifest.input.json"
METRICS_FILE = "metrics.json"
REPORT_FILE = "report.html"
#: the core's packages a run records (read from metadata: nothing is imported); the plugins a run
#: used report their own through the ``tradecore_provenance`` hook
RECORDED_PACKAGES = ("tradecore", "numpy", "polars", "pyarrow", "pydantic", "gymnasium", "matplotlib")


class RunFolderError(TradecoreError):
    """A run folder that does not exist, is incomplete or cannot be trusted."""


def utc_stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def create_run_dir(runs_root: Path | None, name: str, now: datetime | None = None) -> Path:
    """A new, empty ``<root>/<UTC timestamp>-<name>/`` (suffixed -2, -3 ... when taken)."""
    root = Path(runs_root) if runs_root else default_runs_root()
    root.mkdir(parents=True, exist_ok=True)
    base = f"{utc_stamp(now)}-{name}"
    for attempt in range(1, 1000):
        path = root / (base if attempt == 1 else f"{base}-{attempt}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise RunFolderError(f"cannot create a run folder under {root}")


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temp file, then rename): a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=False, default=str, allow_nan=False)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunFolderError(f"{path} is missing") from None
    except (OSError, ValueError) as exc:
        raise RunFolderError(f"{path} is unreadable or corrupt: {exc}") from None


def environment_record(plugins: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Python, platform and the core's package versions, without importing the packages, and
    ``plugins``: what :meth:`tradecore.runtime.Runtime.provenance` says of the plugins a run used."""
    packages: dict[str, str | None] = {}
    for name in RECORDED_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": packages,
        "plugins": plugins or {},
    }


def candles_hash(candles: Candles) -> str:
    """SHA-256 over the candles' time and OHLCV arrays (byte-exact content identity)."""
    import numpy as np

    digest = hashlib.sha256()
    for column in ("time", "open", "high", "low", "close", "volume"):
        digest.update(np.ascontiguousarray(getattr(candles, column)).tobytes())
    return digest.hexdigest()


def data_fingerprint(
    describe: dict[str, Any], candles: Candles, quality: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Source identity, time range, row count and content hash of the candles a run used, and their
    ``quality`` (holes and coverage, see :mod:`tradecore.data.quality`) when measured."""

    def iso(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")

    return {
        "source": describe,
        "timeframe": candles.timeframe,
        "rows": len(candles),
        "first": iso(int(candles.time[0])) if len(candles) else None,
        "last": iso(int(candles.time[-1])) if len(candles) else None,
        "sha256": candles_hash(candles),
        **({"quality": quality} if quality is not None else {}),
    }


def resolve_run_dir(ref: str | Path, runs_root: Path | None = None) -> Path:
    """A run folder from a path, a folder name under the runs root, a unique part of one, or ``latest``."""
    root = Path(runs_root) if runs_root else default_runs_root()
    path = Path(ref)
    if path.is_dir():
        return path
    candidates = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    if str(ref) == "latest" and candidates:
        return candidates[-1]
    exact = [p for p in candidates if p.name == str(ref)]
    if exact:
        return exact[0]
    partial = [p for p in candidates if str(ref) in p.name]
    if len(partial) == 1:
        return partial[0]
    if len(partial) > 1:
        names = ", ".join(p.name for p in partial[-5:])
        raise RunFolderError(f"run {str(ref)!r} is ambiguous under {root}: matches {names}; give the full name")
    raise RunFolderError(
        f"run folder {str(ref)!r} does not exist (looked in {root}); `tradecore runs list` shows the runs"
    )


def require_files(run_dir: Path, *names: str) -> None:
    """Fail with one line when a run folder lacks what a command needs."""
    if not (run_dir / RUN_FILE).is_file() or not (run_dir / MANIFEST_FILE).is_file():
        raise RunFolderError(f"{run_dir} is not a tradecore run folder (no {RUN_FILE} or {MANIFEST_FILE})")
    missing = [n for n in names if not (run_dir / n).exists()]
    if missing:
        status = read_json(run_dir / RUN_FILE).get("status", "unknown")
        hint = (
            f"resume it with `tradecore run --resume {run_dir}`"
            if status in ("interrupted", "failed", "running")
            else "re-run the manifest"
        )
        raise RunFolderError(f"run folder {run_dir} is incomplete (status {status}): no {', '.join(missing)}; {hint}")


def is_inside(path: Path, root: Path) -> bool:
    try:
        Path(path).resolve().relative_to(Path(root).resolve())
    except ValueError:
        return False
    return True


def archive_run(run_dir: Path, destination: Path | None = None) -> Path:
    """Pack a run folder into ``<run>.tar.gz`` next to it (or at ``destination``); atomic."""
    run_dir = Path(run_dir)
    target = Path(destination) if destination else run_dir.with_name(run_dir.name + ".tar.gz")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with tarfile.open(tmp, "w:gz") as tar:
            tar.add(run_dir, arcname=run_dir.name)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def list_runs(runs_root: Path | None = None) -> list[dict[str, Any]]:
    """Summaries of every run folder under the root, oldest first; unreadable folders are marked."""
    root = Path(runs_root) if runs_root else default_runs_root()
    rows = []
    for path in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        if not (path / RUN_FILE).is_file():
            continue
        try:
            record = read_json(path / RUN_FILE)
        except RunFolderError:
            rows.append({"run": path.name, "path": str(path), "status": "corrupt"})
            continue
        metrics = None
        if (path / METRICS_FILE).is_file():
            try:
                metrics = read_json(path / METRICS_FILE)
            except RunFolderError:
                metrics = None
        rows.append(summarise_run(path, record, metrics))
    return rows


def run_status(record: dict[str, Any]) -> str:
    """The recorded status, except that a 'running' run whose process is gone (killed with SIGKILL, or
    its machine went down) is 'interrupted': it will never finish by itself, and can be resumed."""
    status = record.get("status") or "unknown"
    return "interrupted" if status == "running" and owner_gone(record.get("owner")) else status


def summarise_run(path: Path, record: dict[str, Any], metrics: dict[str, Any] | None) -> dict[str, Any]:
    agent = (metrics or {}).get("agent", {}) or {}
    trainer = record.get("trainer") or {}
    return {
        "run": path.name,
        "path": str(path),
        "name": record.get("name"),
        "status": run_status(record),
        "created": record.get("created"),
        "algo": trainer.get("algo"),
        "timesteps": trainer.get("timesteps"),
        "seed": record.get("seed"),
        "data": (record.get("data") or {}).get("source", {}).get("pair"),
        "timeframe": (record.get("data") or {}).get("timeframe"),
        "test_return": agent.get("total_return"),
        "test_sharpe": agent.get("sharpe"),
        "test_max_drawdown": agent.get("max_drawdown"),
        "beat_all_baselines": (metrics or {}).get("verdict", {}).get("beat_all"),
    }
