"""Judge an agent against the baselines on one split: rollouts, metrics, and a plain verdict.

"Beat" means a higher total return *and* a higher Sharpe ratio on the same bars (a flat or
undefined Sharpe counts as 0). The random baseline is the mean over its seeds. When a win is
inside the agent's bootstrap interval the verdict says it may be luck.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

import numpy as np

from tradecore.runs.baselines import (
    FORCED_STOPS_NOTE,
    HOLDING,
    NO_STOPS_NOTE,
    baseline_policies,
    forced_stops,
    without_stops,
)
from tradecore.runs.evaluate import Rollout, rollout
from tradecore.runs.metrics import compute_metrics


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:+.2f}%"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def run_policies(
    experiment: Any, split: str, agent: Any | None, *, segments: int | None = None, seed: int = 0
) -> dict[str, Rollout]:
    """Rollouts of the agent (when given) and every baseline over ``split`` (a portfolio's: its own baselines,
    see :mod:`tradecore.runs.portfolio_compare`)."""
    if experiment.config.type == "portfolio":
        from tradecore.runs.portfolio_compare import run_portfolio_policies

        return run_portfolio_policies(experiment, split, agent, seed=seed)
    probe = experiment.make_env(split, random_start=False, episode_steps=None)
    runs = {name: (experiment, policy, "") for name, policy in baseline_policies(experiment, probe.layout).items()}
    if forced_stops(experiment):
        plain = without_stops(experiment, split)
        for name in HOLDING:
            if name not in runs:
                continue
            if plain is None:
                runs[name] = (experiment, runs[name][1], FORCED_STOPS_NOTE)
            else:
                runs[name] = (plain[0], baseline_policies(plain[0], plain[1])[name], NO_STOPS_NOTE)
    if agent is not None:
        runs = {"agent": (experiment, agent, ""), **runs}
    out = {}
    for name, (exp, policy, note) in runs.items():
        out[name] = rollout(exp, split, policy, segments=segments, record=name == "agent", seed=seed)
        out[name].note = note
    return out


def judge(rollouts: dict[str, Rollout], timeframe: str, *, split: str, seed: int = 0) -> dict[str, Any]:
    """metrics.json content: per-policy metrics, the aggregated random baseline and the verdict."""
    metrics = {name: rollout_metrics(r, timeframe, seed) for name, r in rollouts.items()}
    baselines: dict[str, Any] = {}
    random_names = [n for n in metrics if n.startswith("random_")]
    for name, m in metrics.items():
        if name != "agent" and not name.startswith("random_"):
            baselines[name] = m
    if random_names:
        keys = [k for k, v in metrics[random_names[0]].items() if isinstance(v, (int, float))]
        mean = {}
        for key in keys:
            values = [metrics[n][key] for n in random_names if metrics[n][key] is not None]
            mean[key] = float(np.mean(values)) if values else None
        mean["seeds"] = {
            n.removeprefix("random_"): {"total_return": metrics[n]["total_return"], "sharpe": metrics[n]["sharpe"]}
            for n in random_names
        }
        baselines["random"] = mean
    first = next(iter(rollouts.values()))
    out: dict[str, Any] = {
        "split": split,
        "timeframe": timeframe,
        "bars": len(first.exposure),
        "segments": first.segments,
        "range": {"first": _iso(first.time[0]), "last": _iso(first.time[-1])},
        **({"symbols": list(first.symbols)} if first.symbols else {}),
        "agent": metrics.get("agent"),
        "baselines": baselines,
    }
    notes = {name: r.note for name, r in rollouts.items() if r.note}
    if notes:
        out["baseline_notes"] = notes
    if "agent" in metrics:
        out["verdict"] = verdict(metrics["agent"], baselines, split)
    return out


def rollout_metrics(r: Rollout, timeframe: str, seed: int = 0) -> dict[str, Any]:
    """:func:`compute_metrics` of a rollout, with turnover and per-asset attribution for a portfolio's."""
    metrics = compute_metrics(r.equity, r.exposure, r.costs, timeframe, bootstrap_seed=seed)
    if r.assets:
        from tradecore.runs.portfolio_eval import portfolio_metrics

        metrics.update(portfolio_metrics(r, timeframe))
    return metrics


def verdict(agent: dict[str, Any], baselines: dict[str, Any], split: str) -> dict[str, Any]:
    statements, lost = [], []
    comparisons = {}
    ci = (agent.get("ci95") or {}).get("total_return") or [None, None]
    for name, base in baselines.items():
        a_ret, b_ret = agent["total_return"], base.get("total_return")
        a_sh, b_sh = agent.get("sharpe") or 0.0, base.get("sharpe") or 0.0
        beat = a_ret is not None and b_ret is not None and a_ret > b_ret and a_sh > b_sh
        comparisons[name] = {
            "beat": beat,
            "agent_return": a_ret,
            "baseline_return": b_ret,
            "agent_sharpe": agent.get("sharpe"),
            "baseline_sharpe": base.get("sharpe"),
        }
        detail = (
            f"return {_pct(a_ret)} vs {_pct(b_ret)}, Sharpe {_num(agent.get('sharpe'))} vs {_num(base.get('sharpe'))}"
        )
        if beat:
            luck = ci[0] is not None and b_ret is not None and ci[0] <= b_ret
            statements.append(
                f"Beat {name}: {detail}"
                + (
                    " (but the baseline's return lies inside the agent's 95% bootstrap interval: could be luck)"
                    if luck
                    else ""
                )
            )
        else:
            lost.append(name)
            statements.append(f"Did NOT beat {name}: {detail}")
    beat_all = not lost and bool(baselines)
    if beat_all:
        summary = f"The agent beat all {len(baselines)} baselines on the {split} split."
    else:
        summary = (
            f"The agent did not beat {len(lost)} of {len(baselines)} baselines on the {split} split "
            f"({', '.join(lost)})."
        )
    return {"beat_all": beat_all, "summary": summary, "statements": statements, "comparisons": comparisons}


def _iso(ms: Any) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def save_rollouts(rollouts: dict[str, Rollout], path: Path) -> None:
    """All rollouts in one compressed npz (``policy/array`` keys): the report's input."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"{name}/{key}": value for name, r in rollouts.items() for key, value in r.arrays().items()}
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


def summary_rows(metrics: dict[str, Any]) -> list[list[str]]:
    """Rows of the short terminal table: policy, return, Sharpe, max drawdown, trades, beaten?"""
    rows = []
    agent = metrics.get("agent")
    comparisons = (metrics.get("verdict") or {}).get("comparisons", {})
    if agent:
        rows.append(
            [
                "agent",
                _pct(agent["total_return"]),
                _num(agent.get("sharpe")),
                _pct(agent["max_drawdown"]),
                str(agent["trades"]),
                "",
            ]
        )
    for name, m in (metrics.get("baselines") or {}).items():
        beaten = comparisons.get(name, {}).get("beat")
        rows.append(
            [
                name + ("*" if name in (metrics.get("baseline_notes") or {}) else ""),
                _pct(m.get("total_return")),
                _num(m.get("sharpe")),
                _pct(m.get("max_drawdown")),
                f"{m.get('trades', 0):.0f}",
                "" if beaten is None else ("yes" if beaten else "NO"),
            ]
        )
    return rows


SUMMARY_HEADERS = ["policy", "return", "sharpe", "max_dd", "trades", "agent beat it"]


def summary_notes(metrics: dict[str, Any]) -> list[str]:
    """Footnotes of the summary table (marked ``*`` there): how a baseline's run differs from the agent's."""
    return [f"* {name}: {note}" for name, note in (metrics.get("baseline_notes") or {}).items()]
