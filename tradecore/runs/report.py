"""The run report: PNG plots (matplotlib Agg) and one self-contained, offline ``report.html``.

The page shows the summary tables and the interactive charts of :mod:`tradecore.runs.charts`, drawn
by plotly.js inlined once (about 4.6 MB, so no network is needed); the PNG plots are written to
``plots/`` and embedded for viewers that run no scripts. Input is what a run folder records --
rollouts (``evaluation/<split>.npz``), ``metrics.json``, ``training.csv`` and ``run.json`` -- so
``tradecore report RUN`` regenerates it at any time. Long rollouts are drawn from per-bucket min/max
envelopes (:mod:`tradecore.runs.series`): spikes stay visible and a report of a million bars takes
about a second.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

import numpy as np

from tradecore.runs.charts import plotly_js_path, rollout_figures, training_figures
from tradecore.runs.folder import METRICS_FILE, REPORT_FILE, RUN_FILE, read_json
from tradecore.runs.metrics import drawdown_curve
from tradecore.runs.png import new_figure as _figure
from tradecore.runs.png import png_bytes as _figure_png
from tradecore.runs.series import envelope, is_wide, load_rollouts, minmax_line, read_training_curve

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


def _log_scale_if_wide(ax: Any, *series: np.ndarray) -> None:
    """Log y-axis when :func:`is_wide`; a ruined (zero) equity is clipped to the bottom of the axis, not dropped."""
    if is_wide(*series):
        ax.set_yscale("log", nonpositive="clip")


def plot_equity(rollouts: dict[str, dict[str, np.ndarray]]) -> bytes:
    fig, ax = _figure(4.2)
    drawn = []
    for policy, arrays in rollouts.items():
        if "equity" not in arrays:
            continue
        x, y = minmax_line(arrays["equity"] / arrays["equity"][0])
        drawn.append(y)
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
    _log_scale_if_wide(ax, *drawn)
    ax.set_title("Equity on the evaluation bars (1.0 = initial)")
    ax.set_xlabel("bar")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncols=3, loc="upper left")  # a fixed place: "best" scans every point
    return _figure_png(fig)


def plot_drawdown(rollouts: dict[str, dict[str, np.ndarray]]) -> bytes:
    fig, ax = _figure(3)
    for policy in ("agent", "buy_and_hold"):
        if policy in rollouts:
            # the deepest point of each bucket: a one-bar crash is as visible as on the full series
            x, _, deepest = envelope(drawdown_curve(rollouts[policy]["equity"]))
            ax.fill_between(x, -deepest * 100, 0, alpha=0.45 if policy == "agent" else 0.25, label=policy, step="post")
    ax.set_title("Drawdown (%, deepest point per plotted bucket)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    return _figure_png(fig)


def plot_position(rollouts: dict[str, dict[str, np.ndarray]]) -> bytes:
    agent = rollouts["agent"]
    fig, (top, bottom) = _figure(5, rows=2, sharex=True, height_ratios=[2, 1])
    x, price = minmax_line(agent["price"])
    top.plot(x, price, color="tab:blue", linewidth=0.9)
    _log_scale_if_wide(top, price)
    top.set_title("Price and the agent's exposure")
    top.grid(alpha=0.3)
    x, low, high = envelope(agent["exposure"])
    # the range of exposure held within each bucket (one band when the agent flips within it)
    bottom.fill_between(x, np.minimum(low, 0), np.maximum(high, 0), step="post", color="tab:green", alpha=0.6)
    bottom.axhline(0, color="black", linewidth=0.6)
    bottom.set_ylabel("exposure")
    bottom.set_xlabel("bar")
    bottom.grid(alpha=0.3)
    return _figure_png(fig)


def plot_training(curve: dict[str, list[float]]) -> bytes | None:
    if not curve.get("timesteps"):
        return None
    fig, ax = _figure(3.2)
    for key, label in (("validation_score", "validation return"), ("train_episode_return", "train episode return")):
        if key in curve:
            ax.plot(curve["timesteps"], curve[key], marker="o", markersize=3, label=label)
    ax.set_title("Training curves")
    ax.set_xlabel("timesteps")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return _figure_png(fig)


def plot_reward_terms(agent: dict[str, np.ndarray]) -> bytes | None:
    terms = {k.removeprefix("reward_"): v for k, v in agent.items() if k.startswith("reward_")}
    if not terms:
        return None
    fig, ax = _figure(3.2)
    for name, values in terms.items():
        x, y = minmax_line(np.cumsum(values))
        ax.plot(x, y, label=name)
    ax.set_title("Cumulative reward by term (weighted), agent on the evaluation bars")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return _figure_png(fig)


def _table(metrics: dict[str, Any]) -> str:
    policies = {"agent": metrics.get("agent") or {}, **(metrics.get("baselines") or {})}
    notes = metrics.get("baseline_notes") or {}
    head = "".join(f"<th>{html.escape(p)}{'*' if p in notes else ''}</th>" for p in policies)
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


def attribution_table(metrics: dict[str, Any]) -> str:
    """HTML table: per asset, each policy's contribution, costs and mean weight."""
    policies = {"agent": metrics.get("agent"), **(metrics.get("baselines") or {})}
    policies = {k: v for k, v in policies.items() if v and v.get("assets")}
    if not policies:
        return ""
    head = "".join(f"<th>{html.escape(p)}</th>" for p in policies)
    rows = []
    for symbol in metrics.get("symbols", []):
        for key, label in (("contribution", "contribution"), ("costs", "costs"), ("mean_weight", "mean weight")):
            cells = "".join(f"<td>{fmt(m['assets'][symbol][key], 'pct')}</td>" for m in policies.values())
            rows.append(f"<tr><th>{html.escape(symbol)} {label}</th>{cells}</tr>")
    title = "<h2>Attribution by asset (% of initial equity)</h2>"
    return f"{title}<table><tr><th>asset</th>{head}</tr>{''.join(rows)}</table>"


STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th:first-child{text-align:left}.verdict{padding:.7em 1em;border-radius:6px;background:#f4f4f4}
.bad{background:#fde8e8}.good{background:#e6f6e6}img{max-width:100%}pre{background:#f6f6f6;padding:1em;overflow:auto;
font-size:12px}.notes{font-size:13px;color:#555}.chart{min-height:380px}"""


def render_report(
    run_dir: Path, split: str = "test", *, output: Path | None = None, partial_note: str | None = None
) -> Path:
    """Write PNGs and ``report.html`` for the run (or the evaluation folder) at ``run_dir``."""
    output = output or run_dir
    plots_dir = output / PLOTS_DIR
    plots_dir.mkdir(parents=True, exist_ok=True)
    record = read_json(run_dir / RUN_FILE) if (run_dir / RUN_FILE).is_file() else {}
    metrics_path = output / METRICS_FILE
    metrics = read_json(metrics_path) if metrics_path.is_file() else None
    rollout_path = output / "evaluation" / f"{split}.npz"
    rollouts = load_rollouts(rollout_path) if rollout_path.is_file() else {}

    images: list[tuple[str, str, bytes | None]] = []
    agent = rollouts.get("agent")
    if agent and "weights" in agent:
        from tradecore.runs.portfolio_report import plot_contribution, plot_weights

        images += [
            ("equity", "Equity curves: agent and baselines", plot_equity(rollouts)),
            ("drawdown", "Drawdown", plot_drawdown(rollouts)),
            ("weights", "The agent's weights", plot_weights(agent["weights"], (metrics or {}).get("symbols", []))),
            ("contribution", "Contribution by asset", plot_contribution(metrics or {})),
            ("reward_terms", "Reward-term breakdown", plot_reward_terms(agent)),
        ]
    elif agent:
        images += [
            ("equity", "Equity curves: agent and baselines", plot_equity(rollouts)),
            ("drawdown", "Drawdown", plot_drawdown(rollouts)),
            ("position", "Position over price", plot_position(rollouts)),
            ("reward_terms", "Reward-term breakdown", plot_reward_terms(agent)),
        ]
    curve = read_training_curve(run_dir / "training.csv")
    images.append(("training", "Training curves", plot_training(curve)))

    static = []
    for name, title, png in images:
        if png is None:
            continue
        (plots_dir / f"{name}.png").write_bytes(png)
        data = base64.b64encode(png).decode("ascii")
        static.append(f"<h2>{html.escape(title)}</h2><img alt='{name}' src='data:image/png;base64,{data}'>")
    charts = interactive_charts(rollout_figures(rollouts, metrics) + training_figures(curve), static)

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
        if metrics.get("symbols"):
            parts.append(attribution_table(metrics))
        notes = metrics.get("baseline_notes") or {}
        if notes:
            items = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in notes.items())
            parts.append(f"<ul class='notes'>{items}</ul>")
    elif not partial_note:
        parts.append("<p>No evaluation metrics in this run folder.</p>")
    parts.append(charts)
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


def interactive_charts(figures: list[dict], static: list[str]) -> str:
    """The charts as Plotly divs drawn by the inlined plotly.js (no network), the PNG plots for readers
    whose viewer runs no scripts (``<noscript>``: a browser that draws the charts never loads them)."""
    if not figures:
        return "".join(static)
    divs = "".join(
        f"<h2>{html.escape(f['title'])}</h2><div class='chart' id='chart-{html.escape(f['id'])}'></div>"
        for f in figures
    )
    # "</" inside a script would end it early: JSON allows the escaped form
    payload = json.dumps(figures, allow_nan=False, separators=(",", ":")).replace("</", "<\\/")
    return (
        f"{divs}<noscript>{''.join(static)}</noscript>"
        f"<script>{plotly_js_path().read_text(encoding='utf-8')}</script>"
        f"<script>const FIGURES={payload};{DRAW_CHARTS}</script>"
    )


#: draws every figure into its div; responsive: the charts follow the window's width
DRAW_CHARTS = """for(const f of FIGURES){Plotly.newPlot("chart-"+f.id,f.figure.data,f.figure.layout,
{responsive:true,displaylogo:false});}"""


def _pretty(data: Any) -> str:
    return json.dumps(data, indent=2, default=str)
