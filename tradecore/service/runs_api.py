"""``/api/runs``: run folders as a table, one run in detail, artifacts, comparisons, and starting runs."""

from __future__ import annotations

import csv
import json
import math
import os
import re
import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict

from tradecore.service.problems import Problems, problem
from tradecore.service.safety import file_in, inside, redact, run_folder
from tradecore.service.state import ServiceState, json_safe, state

router = APIRouter(prefix="/api", tags=["runs"])


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_row(path: Path, record: dict[str, Any] | None = None) -> dict[str, Any]:
    """One line of the runs table (what ``tradecore runs list`` shows, with live status)."""
    from tradecore.runs.folder import METRICS_FILE, RUN_FILE, summarise_run

    record = record if record is not None else _read(path / RUN_FILE)
    if not isinstance(record, dict):
        return {"run": path.name, "status": "corrupt"}
    metrics = _read(path / METRICS_FILE) if (path / METRICS_FILE).is_file() else None
    row = summarise_run(path, record, metrics if isinstance(metrics, dict) else None)
    row.pop("path", None)
    row["pair"] = row.pop("data", None)
    row["start"] = row.pop("created", None)
    row["trainer"] = (record.get("trainer") or {}).get("trainer")
    row["pid"] = (record.get("owner") or {}).get("pid")
    stages = record.get("stages") or []
    row["stage"] = next((s.get("name") for s in stages if s.get("status") == "running"), None)
    return json_safe(row)


class RunRows:
    """The runs table of one runs root, each row kept until its folder's ``run.json`` or ``metrics.json`` changes
    (a thousand folders are not re-read per request); a row that says running is made again each time, since
    its process may have died without a word."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._rows: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def all(self) -> list[dict[str, Any]]:
        """Every run folder's row, by folder name (oldest first: names start with the UTC time)."""
        try:
            entries = sorted(os.scandir(self.root), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return []
        rows, names = [], set()
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            path = Path(entry.path)
            if entry.is_symlink() and not inside(path, self.root):
                continue
            row = self.row(path)
            if row is not None:
                rows.append(row)
                names.add(entry.name)
        with self._lock:
            for gone in set(self._rows) - names:
                del self._rows[gone]
        return rows

    def row(self, path: Path) -> dict[str, Any] | None:
        """The folder's row, or None when it holds no ``run.json``."""
        try:
            key = (os.stat(path / "run.json").st_mtime_ns, _mtime_ns(path / "metrics.json"))
        except OSError:
            return None
        with self._lock:
            cached = self._rows.get(path.name)
        if cached is not None and cached[0] == key and cached[1].get("status") != "running":
            return cached[1]
        row = run_row(path)
        with self._lock:
            self._rows[path.name] = (key, row)
        return row


def _mtime_ns(path: Path) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


@router.get("/runs", response_model=dict[str, Any])
def runs(svc: ServiceState = Depends(state)) -> JSONResponse:
    """Every run folder (oldest first), and runs started here that have no folder yet."""
    rows = svc.run_rows.all()
    return JSONResponse({"runs": rows, "launches": launches(svc, rows)})


def launches(svc: ServiceState, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_pid = {r.get("pid"): r["run"] for r in rows if r.get("pid")}
    out = []
    for launch in svc.supervisor.launches.values():
        if launch.run is None and launch.pid in by_pid:
            launch.run = by_pid[launch.pid]
        out.append(launch.as_dict())
    return out


def evaluation_table(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Agent and baselines on the test split: return, Sharpe, drawdown, trades, CIs, beaten or not."""
    comparisons = (metrics.get("verdict") or {}).get("comparisons", {})
    rows = []
    policies = [("agent", metrics.get("agent") or {})] + list((metrics.get("baselines") or {}).items())
    for name, m in policies:
        ci = m.get("ci95") or {}
        rows.append(
            {
                "policy": name,
                "return": m.get("total_return"),
                "return_ci95": ci.get("total_return"),
                "sharpe": m.get("sharpe"),
                "sharpe_ci95": ci.get("sharpe"),
                "max_drawdown": m.get("max_drawdown"),
                "trades": m.get("trades"),
                "win_rate": m.get("win_rate"),
                "exposure": m.get("exposure"),
                "beaten": None if name == "agent" else comparisons.get(name, {}).get("beat"),
                "note": (metrics.get("baseline_notes") or {}).get(name),
            }
        )
    return json_safe(rows)


def training_curve(path: Path) -> list[dict[str, Any]]:
    file = path / "training.csv"
    if not file.is_file():
        return []
    with open(file, newline="") as fh:
        out = []
        for row in csv.DictReader(fh):
            point = {}
            for key, value in row.items():
                try:
                    number = float(value)
                except (TypeError, ValueError):
                    number = None
                point[key] = number if number is not None and math.isfinite(number) else None
            out.append(point)
    return out


def artifacts(path: Path) -> list[dict[str, Any]]:
    files = []
    for file in sorted(path.rglob("*")):
        if file.is_file() and inside(file, path) and not file.name.startswith("."):
            files.append({"path": file.relative_to(path).as_posix(), "bytes": file.stat().st_size})
    return files


@router.get("/runs/{run_id}")
def run_detail(run_id: str, svc: ServiceState = Depends(state)) -> dict[str, Any]:
    """Manifest, provenance (run.json), metrics, the evaluation table with CIs, the training curve."""
    path = run_folder(svc.settings.runs, run_id)
    record = _read(path / "run.json") or {}
    metrics = _read(path / "metrics.json")
    return json_safe(
        {
            "run": run_id,
            "summary": run_row(path, record),
            "manifest": redact(_read(path / "manifest.json")),
            "provenance": redact(record),
            "metrics": metrics,
            "evaluation": evaluation_table(metrics) if isinstance(metrics, dict) else [],
            "verdict": (metrics or {}).get("verdict", {}).get("summary") if isinstance(metrics, dict) else None,
            "training": training_curve(path),
            "artifacts": artifacts(path),
        }
    )


@router.get("/runs/{run_id}/figures")
def run_figures(run_id: str, svc: ServiceState = Depends(state)) -> list[dict[str, Any]]:
    """The run's interactive charts as Plotly figure dicts (the report's): price with trades, equity, drawdown,
    exposure, reward terms, training."""
    from tradecore.runs.charts import run_figures as figures

    return json_safe(figures(run_folder(svc.settings.runs, run_id)))


@router.get("/runs/{run_id}/metrics")
def run_metrics(run_id: str, svc: ServiceState = Depends(state)) -> dict[str, Any]:
    path = run_folder(svc.settings.runs, run_id)
    metrics = _read(path / "metrics.json")
    if metrics is None:
        raise problem(404, "run", f"run {run_id!r} has no metrics yet (status {run_row(path)['status']})")
    return json_safe(metrics)


@router.get("/runs/{run_id}/artifacts")
def run_artifacts(run_id: str, svc: ServiceState = Depends(state)) -> list[dict[str, Any]]:
    return artifacts(run_folder(svc.settings.runs, run_id))


@router.get("/runs/{run_id}/artifacts/{relative:path}")
def run_artifact(run_id: str, relative: str, svc: ServiceState = Depends(state)) -> FileResponse:
    """One file of the run folder (nothing outside it)."""
    path = file_in(run_folder(svc.settings.runs, run_id), relative)
    if path.name in ("manifest.json", "manifest.input.json", "run.json"):
        return JSONResponse(redact(_read(path)))
    return FileResponse(path, filename=path.name)


@router.get("/compare")
def compare(
    runs: list[str] = Query(..., description="two or more run names (repeat ?runs= or comma-separate)"),
    svc: ServiceState = Depends(state),
) -> dict[str, Any]:
    """Several runs side by side: summary, manifest differences, evaluation tables, training curves."""
    names = [n for value in runs for n in value.split(",") if n]
    if len(names) < 2:
        raise problem(422, "runs", "give two or more runs to compare")
    entries = []
    for name in names:
        path = run_folder(svc.settings.runs, name)
        metrics = _read(path / "metrics.json")
        entries.append(
            {
                "run": name,
                "summary": run_row(path),
                "manifest": redact(_read(path / "manifest.json")) or {},
                "evaluation": evaluation_table(metrics) if isinstance(metrics, dict) else [],
                "training": training_curve(path),
            }
        )
    return json_safe({"runs": entries, "differences": manifest_differences([e["manifest"] for e in entries])})


@router.get("/compare/figures")
def compare_figures(runs: list[str] = Query(...), svc: ServiceState = Depends(state)) -> list[dict[str, Any]]:
    """Charts over several runs (equity and training curves side by side)."""
    from tradecore.runs.charts import compare_figures as figures

    names = [n for value in runs for n in value.split(",") if n]
    if len(names) < 2:
        raise problem(422, "runs", "give two or more runs to compare")
    return json_safe(figures([run_folder(svc.settings.runs, n) for n in names]))


def manifest_differences(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Dotted paths whose values differ between the manifests, with each run's value."""
    flat = [_flatten(m) for m in manifests]
    keys = sorted(set().union(*flat))
    return [
        {"path": k, "values": [f.get(k) for f in flat]} for k in keys if len({json.dumps(f.get(k)) for f in flat}) > 1
    ]


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


# ---------------------------------------------------------------- starting runs


class StartRun(BaseModel):
    """One of: ``manifest`` (parsed JSON), ``text`` (a manifest file's text), ``file`` (from GET /api/manifests)."""

    model_config = ConfigDict(extra="forbid")
    manifest: dict[str, Any] | None = None
    text: str | None = None
    file: str | None = None


def manifest_files(svc: ServiceState) -> dict[str, Path]:
    found = {}
    for folder in svc.settings.manifest_dirs:
        if folder.is_dir():
            for path in sorted(folder.glob("*.json")):
                found[f"{folder.name}/{path.name}"] = path
    return found


@router.get("/manifests")
def manifests(svc: ServiceState = Depends(state)) -> list[str]:
    """Manifest files the start form offers (configs/ and examples/ of the server's working folder)."""
    return list(manifest_files(svc))


@router.post("/runs", status_code=202)
def start_run(req: StartRun, svc: ServiceState = Depends(state)) -> dict[str, Any]:
    """Validate a manifest like ``tradecore validate`` (one line per problem, 422) and run it in a worker process
    like ``tradecore run``."""
    from tradecore.errors import ManifestError
    from tradecore.manifest import parse_manifest_text, read_manifest_file, resolve

    given = [k for k in ("manifest", "text", "file") if getattr(req, k) is not None]
    if len(given) != 1:
        raise problem(422, "body", "give exactly one of manifest (JSON), text (a manifest file's text) or file")
    try:
        if req.file is not None:
            files = manifest_files(svc)
            if req.file not in files:
                raise problem(404, "file", f"no manifest {req.file!r}; GET /api/manifests lists them")
            data = read_manifest_file(files[req.file])
        elif req.text is not None:
            data = parse_manifest_text(req.text, "manifest")
        else:
            data = req.manifest
        resolved = resolve(data, svc.runtime.registry)
    except ManifestError as exc:
        raise Problems(422, [(i.path or "manifest", i.render()) for i in exc.issues]) from None
    lake = data.get("lake") if isinstance(data, dict) else None
    if lake is not None and Path(lake).expanduser().resolve() != svc.lake.root:
        raise problem(422, "lake", "the server runs manifests on its own lake (--lake); remove 'lake'")
    from tradecore.runs.folder import utc_stamp, write_json

    name = resolved.manifest.name
    safe = re.sub(r"[^A-Za-z0-9._-]", "-", name)[:80]
    target = svc.settings.runs / ".service" / "manifests" / f"{utc_stamp()}-{safe}.json"
    write_json(target, data)
    launch = svc.supervisor.queue_run(target, name)
    return {"launch": launch.id, "name": name, "status": launch.status}
