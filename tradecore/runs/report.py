"""The run report: PNG plots (matplotlib Agg) and one self-contained ``report.html`` with them embedded.

Input is what a run folder records -- rollouts (``evaluation/<split>.npz``), ``metrics.json``,
``training.csv`` and ``run.json`` -- so ``tradecore report RUN`` regenerates it at any time. Long
rollouts are decimated to a few thousand points per line: a plot cannot show more, and this keeps
report generation fast for millions of bars.
"""

from __future__ import annotations

import base64
import csv
import html
import io
from pathlib import Path
from typing import Any

import numpy as np

from tradecore.runs.folder import METRICS_FILE, REPORT_FILE, RUN_FILE, read_json
from tradecore.runs.metrics import drawdown_curve

PLOT_POINTS = 3000
PLOTS_DIR = "plots"
#: metric rows of the summary table: key, label, format
TABLE_ROWS = [
    ("total_return", "Total return", "pct"),
    ("annualised_return", "Annualised return", "pct"),
    ("volatility", "Volatility (ann.)", "pct"),
    ("sharpe", "Sharpe", "num"),
    ("sortino", "Sortino", "num"),
    ("calmar", "Calmar", "num"),
    ("max_drawdown", "Max drawdown", "pct"),
    ("max_drawdown_bars", "Longest drawdown (bars)", "int"),
    ("turnover", "Turnover (x equity)", "num"),
    ("fees_paid", "Fees + slippage paid", "num"),
    ("exposure", "Exposure (share of bars)", "pct"),
    ("trades", "Trades", "int"),
    ("win_rate", "Win rate", "pct"),
    ("avg_trade_return", "Average trade", "pct"),
    ("profit_factor", "Profit factor", "num"),
]


def fmt(value: Any, kind: str = "num") -> str:
    if value is None:
        return "-"
    if kind == "pct":
        return f"{value * 100:+.2f}%" if isinstance(value, float) else str(value)
    if kind == "int":
        return f"{int(value):,}"
    return f"{value:,.3f}" if isinstance(value, float) else str(value)


def decimate(values: np.ndarray, points: int = PLOT_POINTS, how: str = "last") -> tuple[np.ndarray, np.ndarray]:
    """(x, y) with at most ``points`` entries: the last (or max) value of each bucket."""
    n = len(values)
    if n <= points:
        return np.arange(n), values
    size = int(np.ceil(n / points))
    usable = (n // size) * size
    buckets = values[:usable].reshape(-1, size)
    y = buckets.max(axis=1) if how == "max" else buckets[:, -1]
    x = np.arange(size - 1, usable, size)
    if usable < n:
        x = np.append(x, n - 1)
        y = np.append(y, values[usable:].max() if how == "max" else values[-1])
    return x, y


def load_rollouts(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """``{policy: {array name: array}}`` from an ``evaluation/<split>.npz``."""
    out: dict[str, dict[str, np.ndarray]] = {}
    with np.load(path, allow_pickle=False) as data:
        for key in data.files:
            policy, _, name = key.partition("/")
            out.setdefault(policy, {})[name] = data[key]
    return out


def _figure_png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buffer.getvalue()


def plot_equity(rollouts: dict[str, dict[str, np.ndarray]]) -> bytes:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4.2))
    for policy, arrays in rollouts.items():
        if "equity" not in arrays:
            continue
        x, y = decimate(arrays["equity"] / arrays["equity"][0])
        agent = policy == "agent"
        ax.plot(
            x,
            y,
            label=policy,
            linewidth=1.8 if agent else 0.9,
            alpha=1.0 if agent else 0.75,
            color="black" if agent else None,
            zorder=3 if agent else 2,
        )
    ax.set_title("Equity on the evaluation bars (1.0 = initial)")
    ax.set_xlabel("bar")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncols=3)
    return _figure_png(fig)


def plot_drawdown(rollouts: dict[str, dict[str, np.ndarray]]) -> bytes:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 3))
    for policy in ("agent", "buy_and_hold"):
        if policy in rollouts:
            x, y = decimate(drawdown_curve(rollouts[policy]["equity"]), how="max")
            ax.fill_between(x, -y * 100, 0, alpha=0.45 if policy == "agent" else 0.25, label=policy, step="post")
    ax.set_title("Drawdown (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _figure_png(fig)


def plot_position(rollouts: dict[str, dict[str, np.ndarray]]) -> bytes:
    import matplotlib.pyplot as plt

    agent = rollouts["agent"]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5), sharex=True, height_ratios=[2, 1])
    x, price = decimate(agent["price"])
    top.plot(x, price, color="tab:blue", linewidth=0.9)
    top.set_title("Price and the agent's exposure")
    top.grid(alpha=0.3)
    x, exposure = decimate(agent["exposure"])
    bottom.fill_between(x, exposure, 0, step="post", color="tab:green", alpha=0.6)
    bottom.axhline(0, color="black", linewidth=0.6)
    bottom.set_ylabel("exposure")
    bottom.set_xlabel("bar")
    bottom.grid(alpha=0.3)
    return _figure_png(fig)


def read_training_curve(path: Path) -> dict[str, list[float]]:
    if not path.is_file():
        return {}
    columns: dict[str, list[float]] = {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            for key, value in row.items():
                try:
                    columns.setdefault(key, []).append(float(value))
                except (TypeError, ValueError):
                    columns.setdefault(key, []).append(float("nan"))
    return columns


def plot_training(curve: dict[str, list[float]]) -> bytes | None:
    import matplotlib.pyplot as plt

    if not curve.get("timesteps"):
        return None
    fig, ax = plt.subplots(figsize=(10, 3.2))
    for key, label in (("validation_score", "validation return"), ("train_episode_return", "train episode return")):
        if key in curve:
            ax.plot(curve["timesteps"], curve[key], marker="o", markersize=3, label=label)
    ax.set_title("Training curves")
    ax.set_xlabel("timesteps")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _figure_png(fig)


def plot_reward_terms(agent: dict[str, np.ndarray]) -> bytes | None:
    import matplotlib.pyplot as plt

    terms = {k.removeprefix("reward_"): v for k, v in agent.items() if k.startswith("reward_")}
    if not terms:
        return None
    fig, ax = plt.subplots(figsize=(10, 3.2))
    for name, values in terms.items():
        x, y = decimate(np.cumsum(values))
        ax.plot(x, y, label=name)
    ax.set_title("Cumulative reward by term (weighted), agent on the evaluation bars")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _figure_png(fig)


def _table(metrics: dict[str, Any]) -> str:
    policies = {"agent": metrics.get("agent") or {}, **(metrics.get("baselines") or {})}
    head = "".join(f"<th>{html.escape(p)}</th>" for p in policies)
    rows = []
    for key, label, kind in TABLE_ROWS:
        cells = "".join(f"<td>{fmt(m.get(key), kind)}</td>" for m in policies.values())
        rows.append(f"<tr><th>{label}</th>{cells}</tr>")
    ci_cells = []
    for m in policies.values():
        ci = (m.get("ci95") or {}).get("sharpe") or [None, None]
        ci_cells.append(f"<td>[{fmt(ci[0])}, {fmt(ci[1])}]</td>")
    rows.append(f"<tr><th>Sharpe 95% CI (block bootstrap)</th>{''.join(ci_cells)}</tr>")
    ci_cells = []
    for m in policies.values():
        ci = (m.get("ci95") or {}).get("total_return") or [None, None]
        ci_cells.append(f"<td>[{fmt(ci[0], 'pct')}, {fmt(ci[1], 'pct')}]</td>")
    rows.append(f"<tr><th>Return 95% CI (block bootstrap)</th>{''.join(ci_cells)}</tr>")
    return f"<table><tr><th>metric</th>{head}</tr>{''.join(rows)}</table>"


STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th:first-child{text-align:left}.verdict{padding:.7em 1em;border-radius:6px;background:#f4f4f4}
.bad{background:#fde8e8}.good{background:#e6f6e6}img{max-width:100%}pre{background:#f6f6f6;padding:1em;overflow:auto;
font-size:12px}"""


def render_report(
    run_dir: Path, split: str = "test", *, output: Path | None = None, partial_note: str | None = None
) -> Path:
    """Write PNGs and ``report.html`` for the run (or the evaluation folder) at ``run_dir``."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    output = output or run_dir
    plots_dir = output / PLOTS_DIR
    plots_dir.mkdir(parents=True, exist_ok=True)
    record = read_json(run_dir / RUN_FILE) if (run_dir / RUN_FILE).is_file() else {}
    metrics_path = output / METRICS_FILE
    metrics = read_json(metrics_path) if metrics_path.is_file() else None
    rollout_path = output / "evaluation" / f"{split}.npz"
    rollouts = load_rollouts(rollout_path) if rollout_path.is_file() else {}

    images: list[tuple[str, str, bytes | None]] = []
    if rollouts.get("agent"):
        images += [
            ("equity", "Equity curves: agent and baselines", plot_equity(rollouts)),
            ("drawdown", "Drawdown", plot_drawdown(rollouts)),
            ("position", "Position over price", plot_position(rollouts)),
            ("reward_terms", "Reward-term breakdown", plot_reward_terms(rollouts["agent"])),
        ]
    images.append(("training", "Training curves", plot_training(read_training_curve(run_dir / "training.csv"))))

    sections = []
    for name, title, png in images:
        if png is None:
            continue
        (plots_dir / f"{name}.png").write_bytes(png)
        data = base64.b64encode(png).decode("ascii")
        sections.append(f"<h2>{html.escape(title)}</h2><img alt='{name}' src='data:image/png;base64,{data}'>")

    name = html.escape(str(record.get("name", run_dir.name)))
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>tradecore report: {name}</title>"
        f"<style>{STYLE}</style></head><body><h1>Run {html.escape(run_dir.name)}</h1>"
    ]
    if partial_note:
        parts.append(f"<p class='verdict bad'><b>Partial report:</b> {html.escape(partial_note)}</p>")
    if metrics:
        verdict = metrics.get("verdict") or {}
        css = "good" if verdict.get("beat_all") else "bad"
        lines = "".join(f"<li>{html.escape(s)}</li>" for s in verdict.get("statements", []))
        summary = html.escape(verdict.get("summary", ""))
        parts.append(f"<div class='verdict {css}'><b>{summary}</b><ul>{lines}</ul></div>")
        span = metrics.get("range") or {}
        parts.append(
            f"<p>Evaluated deterministically on the <b>{html.escape(str(metrics.get('split')))}</b> bars "
            f"{html.escape(str(span.get('first')))} to {html.escape(str(span.get('last')))} "
            f"({metrics.get('bars', 0):,} bars of {html.escape(str(metrics.get('timeframe')))}), "
            "with the same fees and slippage for every policy. Annualised for a 24/7 market.</p>"
        )
        parts.append(_table(metrics))
    elif not partial_note:
        parts.append("<p>No evaluation metrics in this run folder.</p>")
    parts.extend(sections)
    details = {k: record.get(k) for k in ("status", "created", "seed", "data", "trainer", "plugins", "environment")}
    parts.append("<h2>Run record</h2><pre>" + html.escape(_pretty(details)) + "</pre>")
    if (run_dir / "manifest.json").is_file():
        parts.append(
            "<h2>Resolved manifest</h2><pre>"
            + html.escape((run_dir / "manifest.json").read_text(encoding="utf-8"))
            + "</pre>"
        )
    parts.append("</body></html>")
    target = output / REPORT_FILE
    target.write_text("".join(parts), encoding="utf-8")
    return target


def _pretty(data: Any) -> str:
    import json

    return json.dumps(data, indent=2, default=str)
