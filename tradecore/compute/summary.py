"""The sweep summary: one row per trial, the best run by a chosen metric, ``sweep.json`` on disk."""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SUMMARY_FILE = "sweep.json"

#: trial statuses, in the order a table explains them
STATUSES = {
    "done": "every stage completed",
    "incomplete": "the pipeline stopped at a stage this installation does not provide",
    "failed": "the run exited with an error",
    "timeout": "stopped after the backend's timeout_s",
    "stopped": "stopped early by the sweep's trial scheduler (e.g. Ray Tune ASHA) on its validation scores",
    "interrupted": "stopped by Ctrl-C / SIGTERM while running",
    "cancelled": "never started because the sweep was interrupted",
    "pending": "not finished yet",
}


@dataclass
class TrialResult:
    """What became of one trial."""

    key: str
    index: int
    overrides: dict[str, Any]
    status: str = "pending"
    seconds: float = 0.0
    returncode: int | None = None
    run_dir: str | None = None
    folder: str | None = None
    metrics: dict[str, Any] | None = None
    stages: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    pid: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_outcome(cls, base: TrialResult, outcome: dict[str, Any] | None) -> TrialResult:
        """Fill status, stages and metrics from a run outcome (``RunOutcome.as_dict()``)."""
        if outcome is None:
            return base
        base.stages = list(outcome.get("stages") or [])
        base.metrics = outcome.get("metrics")
        base.run_dir = outcome.get("run_dir") or base.run_dir
        if outcome.get("complete"):
            base.status = "done"
        else:
            stopped = [s for s in base.stages if s.get("status") != "done"]
            base.status = "failed" if any(s.get("status") == "failed" for s in stopped) else "incomplete"
            if stopped and not base.error:
                base.error = f"{stopped[0].get('stage')}: {stopped[0].get('detail')}"
        return base


def metric_value(result: TrialResult, metric: str | None) -> float | None:
    """``metric`` (dotted, e.g. ``test.sharpe``) looked up in the run's metrics; None when absent or not finite."""
    if not metric or not result.metrics:
        return None
    node: Any = result.metrics
    for part in metric.removeprefix("metrics.").split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, (int, float)) or not math.isfinite(node):
        return None
    return float(node)


def best_trial(results: list[TrialResult], metric: str | None, mode: str = "max") -> TrialResult | None:
    """The finished trial with the best ``metric``; ties go to the earlier trial."""
    scored = [(metric_value(r, metric), r) for r in results if r.status == "done"]
    scored = [(v, r) for v, r in scored if v is not None]
    if not scored:
        return None
    sign = 1.0 if mode == "max" else -1.0
    return max(scored, key=lambda vr: (sign * vr[0], -vr[1].index))[1]


def summary_dict(
    name: str,
    folder: Path | None,
    paths: list[str],
    results: list[TrialResult],
    metric: str | None,
    mode: str,
    *,
    interrupted: bool = False,
) -> dict[str, Any]:
    best = best_trial(results, metric, mode)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return {
        "name": name,
        "folder": str(folder) if folder else None,
        "parameters": paths,
        "metric": metric,
        "mode": mode,
        "interrupted": interrupted,
        "counts": counts,
        "best": None
        if best is None
        else {
            "trial": best.key,
            "value": metric_value(best, metric),
            "overrides": best.overrides,
            "run_dir": best.run_dir,
        },
        "trials": [r.as_dict() for r in results],
    }


def write_summary(folder: Path, summary: dict[str, Any]) -> Path:
    """Write ``sweep.json`` atomically (a crash mid-write leaves the previous version whole)."""
    path = folder / SUMMARY_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)
    return path


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 24 else text[:21] + "..."


def render_summary(summary: dict[str, Any]) -> str:
    """The sweep table and a line naming the best run (or why there is none)."""
    from tradecore.tables import render_table

    metric = summary.get("metric")
    paths = summary["parameters"]
    headers = ["trial", "status", *paths, metric or "metric", "seconds", "detail"]
    best_key = (summary.get("best") or {}).get("trial")
    rows = []
    for t in summary["trials"]:
        value = metric_value(TrialResult(**t), metric)
        mark = " *" if t["key"] == best_key else ""
        detail = t.get("run_dir") or t.get("error") or ""
        rows.append(
            [
                t["key"] + mark,
                t["status"],
                *[_short(t["overrides"].get(p)) for p in paths],
                None if value is None else f"{value:.6g}",
                f"{t['seconds']:.1f}",
                _short_detail(detail),
            ]
        )
    lines = [render_table(headers, rows), ""]
    counts = ", ".join(f"{n} {s}" for s, n in summary["counts"].items())
    lines.append(
        f"{len(summary['trials'])} run(s): {counts}" + ("  (sweep interrupted)" if summary["interrupted"] else "")
    )
    best = summary.get("best")
    if best:
        settings = ", ".join(f"{p}={_short(v)}" for p, v in best["overrides"].items())
        lines.append(f"best: {best['trial']} ({metric} = {best['value']:.6g}, {summary['mode']}) with {settings}")
    elif not metric:
        lines.append("best: none chosen; name a metric with --metric or sweep.metric")
    else:
        lines.append(f"best: none; no finished run reported metric {metric!r}")
    if summary.get("folder"):
        lines.append(f"sweep folder: {summary['folder']}")
    return "\n".join(lines)


def _short_detail(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
