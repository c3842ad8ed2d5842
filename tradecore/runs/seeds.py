"""``tradecore run MANIFEST --seeds 5``: the same manifest once per seed, then one summary across the seeds.

The runs are a sweep over ``seed`` (a :class:`~tradecore.compute.sweep.SweepPlan` handed to the manifest's
backend, so each run gets its own child process and run folder, ``--workers`` at a time); the group
folder holds the sweep's ``sweep.json`` plus ``seeds.json`` and ``seeds.html``: the agent's test return
and Sharpe as mean, IQM and bootstrap 95% CIs (:mod:`tradecore.runs.aggregate`), how often it beat each
baseline, and one row per seed.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradecore.errors import TradecoreError
from tradecore.runs import aggregate

if TYPE_CHECKING:
    from tradecore.compute.sweep import SweepPlan
    from tradecore.registry import Registry

SEEDS_FILE = "seeds.json"
SEEDS_REPORT_FILE = "seeds.html"
MAX_SEEDS = 1000
#: the bootstrap's own seed: the same runs always give the same intervals
BOOTSTRAP_SEED = 0
METRICS = (("total_return", "return"), ("sharpe", "sharpe"))


def parse_seeds(text: str, manifest_seed: int) -> tuple[list[int], str]:
    """``"5"``: the manifest's seed and the 4 after it; ``"7,8,9"``: those seeds. Returns (seeds, how chosen)."""
    fix = "give a count (--seeds 5) or seeds separated by commas (--seeds 7,8,9)"
    parts = [p.strip() for p in text.split(",")]
    if not all(p.isdigit() for p in parts if p) or not any(parts):
        raise TradecoreError(f"--seeds {text!r}: {fix}")
    numbers = [int(p) for p in parts if p]
    if "," not in text:
        count = numbers[0]
        if not 1 <= count <= MAX_SEEDS:
            raise TradecoreError(f"--seeds {count}: the count must be between 1 and {MAX_SEEDS}")
        seeds = [manifest_seed + i for i in range(count)]
        chosen = f"the manifest's seed {manifest_seed}" + (f" and the {count - 1} after it" if count > 1 else "")
    else:
        seeds, chosen = numbers, "given with --seeds"
        if len(set(seeds)) != len(seeds):
            raise TradecoreError(f"--seeds {text!r}: a seed appears twice; list each seed once")
        if len(seeds) > MAX_SEEDS:
            raise TradecoreError(f"--seeds: {len(seeds)} seeds is more than {MAX_SEEDS}; run fewer")
    if max(seeds) >= 2**32:
        raise TradecoreError(f"--seeds: seeds must be below 2**32 (got up to {max(seeds)})")
    return seeds, chosen


def suffixed(name: str, suffix: str) -> str:
    """``name`` + ``suffix`` within the 80 characters a manifest name may have."""
    return name[: 80 - len(suffix)] + suffix


def plan_seeds(
    data: dict[str, Any], registry: Registry, seeds_text: str, *, workers: int | None
) -> tuple[SweepPlan, list[int], str]:
    """A sweep plan with one trial per seed of ``--seeds`` (the manifest's own ``sweep`` section is not run).

    Returns the plan, the seeds and how they were chosen.
    """
    from tradecore.compute.sweep import SweepPlan, Trial
    from tradecore.config.sweep import SweepConfig
    from tradecore.manifest import resolve

    data = copy.deepcopy(data)
    if isinstance(data, dict):
        data.pop("sweep", None)
    base = resolve(data, registry)
    seeds, chosen = parse_seeds(seeds_text, base.manifest.seed)
    name = base.manifest.name
    config = SweepConfig(parameters={"seed": {"values": seeds}}, workers=workers or 1, max_runs=len(seeds))
    trials = []
    for index, seed in enumerate(seeds):
        trial_data = copy.deepcopy(data)
        trial_data["seed"] = seed
        trial_data["name"] = suffixed(name, f"-seed{seed}")
        trials.append(
            Trial(index=index, overrides={"seed": seed}, data=trial_data, resolved=resolve(trial_data, registry))
        )
    return SweepPlan(name=suffixed(name, "-seeds"), config=config, base=base, trials=trials), seeds, chosen


# -- the summary -------------------------------------------------------------------------------------------
def seed_rows(sweep: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per seed from a sweep summary: status, the agent's metrics, which baselines it beat."""
    rows = []
    for trial in sweep["trials"]:
        metrics = trial.get("metrics") or {}
        agent = metrics.get("agent") or {}
        comparisons = (metrics.get("verdict") or {}).get("comparisons") or {}
        rows.append(
            {
                "seed": trial["overrides"]["seed"],
                "status": trial["status"],
                "total_return": agent.get("total_return"),
                "sharpe": agent.get("sharpe"),
                "max_drawdown": agent.get("max_drawdown"),
                "trades": agent.get("trades"),
                "beat": {name: bool(c.get("beat")) for name, c in comparisons.items()},
                "seconds": trial.get("seconds"),
                "run_dir": trial.get("run_dir"),
                "split": metrics.get("split"),
                "error": trial.get("error"),
            }
        )
    return rows


def seeds_summary(sweep: dict[str, Any], seeds: list[int], chosen: str) -> dict[str, Any]:
    """``seeds.json``: per-seed rows and, over the seeds whose agent was evaluated, mean/IQM/CIs and beat rates."""
    rows = seed_rows(sweep)
    scored = [r for r in rows if r["status"] == "done" and r["total_return"] is not None]
    stats: dict[str, Any] = {
        key: aggregate.describe([r[key] if r[key] is not None else float("nan") for r in scored], seed=BOOTSTRAP_SEED)
        for key, _ in METRICS
    }
    baselines = list(dict.fromkeys(name for r in scored for name in r["beat"]))
    stats["beat_rate"] = {
        name: aggregate.rate([r["beat"][name] for r in scored if name in r["beat"]], seed=BOOTSTRAP_SEED)
        for name in baselines
    }
    return {
        "name": sweep["name"],
        "folder": sweep.get("folder"),
        "seeds": seeds,
        "seeds_chosen": chosen,
        "split": next((r["split"] for r in scored if r["split"]), None),
        "interrupted": sweep.get("interrupted", False),
        "counts": sweep.get("counts", {}),
        "evaluated": len(scored),
        "bootstrap": {
            "method": "percentile interval of a stratified bootstrap over seeds (rliable)",
            "confidence": aggregate.CONFIDENCE,
            "resamples": aggregate.BOOTSTRAP_REPS,
            "seed": BOOTSTRAP_SEED,
        },
        "aggregate": stats,
        "runs": rows,
    }


def write_seeds_summary(folder: Path, summary: dict[str, Any]) -> Path:
    """``seeds.json`` in the group folder, written atomically."""
    path = folder / SEEDS_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)
    return path


# -- the terminal summary ----------------------------------------------------------------------------------
def fmt_pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:+.2f}%"


def fmt_num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _interval(ci: list[float] | None, fmt: Any) -> str:
    return "-" if ci is None else f"[{fmt(ci[0])}, {fmt(ci[1])}]"


def fmt_share(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def aggregate_rows(summary: dict[str, Any]) -> list[list[str]]:
    """metric | mean | 95% CI | IQM | 95% CI | min | max, then one "beat X" row per baseline."""
    stats = summary["aggregate"]
    rows = []
    for key, label in METRICS:
        s = stats[key]
        fmt = fmt_pct if key == "total_return" else fmt_num
        rows.append(
            [
                label,
                fmt(s["mean"]),
                _interval(s["mean_ci95"], fmt),
                fmt(s["iqm"]),
                _interval(s["iqm_ci95"], fmt),
                fmt(s["min"]),
                fmt(s["max"]),
            ]
        )
    for name, r in stats["beat_rate"].items():
        rows.append([f"beat {name}", fmt_share(r["rate"]), _interval(r["ci95"], fmt_share), "", "", "", ""])
    return rows


AGGREGATE_HEADERS = ["metric", "mean", "95% CI", "IQM", "95% CI", "min", "max"]


def render_seeds(summary: dict[str, Any]) -> str:
    """Per-seed rows, then the across-seed table and where the files are."""
    from tradecore.tables import render_table

    baselines = list(summary["aggregate"]["beat_rate"])
    headers = ["seed", "status", "return", "sharpe", *[f"beat {b}" for b in baselines], "seconds", "run / error"]
    rows = []
    for r in summary["runs"]:
        beat = ["" if b not in r["beat"] else ("yes" if r["beat"][b] else "NO") for b in baselines]
        detail = r["run_dir"] if r["status"] == "done" else (r["error"] or "")
        rows.append(
            [
                str(r["seed"]),
                r["status"],
                fmt_pct(r["total_return"]),
                fmt_num(r["sharpe"]),
                *beat,
                f"{r['seconds'] or 0:.1f}",
                detail,
            ]
        )
    lines = [render_table(headers, rows), ""]
    n, total = summary["evaluated"], len(summary["runs"])
    boot = summary["bootstrap"]
    if n == 0:
        lines.append(f"no seed's agent was evaluated ({total} run(s)): nothing to aggregate")
    else:
        lines.append(
            f"agent on the {summary['split']} split across {n} of {total} seed(s): mean, interquartile mean, "
            f"{boot['confidence']:.0%} CIs ({boot['resamples']:,} stratified bootstrap resamples)"
        )
        lines.append(render_table(AGGREGATE_HEADERS, aggregate_rows(summary)))
    if summary.get("interrupted"):
        lines.append("(interrupted: the runs that finished are summarised)")
    if summary.get("folder"):
        lines.append(f"seeds folder: {summary['folder']}")
    if summary.get("report"):
        lines.append(f"report: {summary['report']}")
    return "\n".join(lines)
