"""The run report: PNG plots (matplotlib Agg) and one self-contained ``report.html`` with them embedded.

Input is what a run folder records -- rollouts (``evaluation/<split>.npz``), ``metrics.json``,
``training.csv`` and ``run.json`` -- so ``tradecore report RUN`` regenerates it at any time. Long
rollouts are drawn from per-bucket min/max envelopes (at most ~2,400 points per line, about what a
900-pixel plot can show): spikes stay visible and a report of a million bars takes about a second.
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

#: buckets per plotted line: a 900-pixel-wide PNG cannot show more (lines get 2 points per bucket)
PLOT_BUCKETS = 1200
FIG_WIDTH = 10.0
PNG_DPI = 90
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


def buckets(n: int, count: int = PLOT_BUCKETS) -> int:
    """Bars per bucket so that ``n`` bars make at most ``count`` buckets."""
    return max(1, -(-n // count))


def envelope(values: np.ndarray, count: int = PLOT_BUCKETS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, low, high): the min and max of each of at most ``count`` buckets, x at each bucket's first bar.

    A plot cannot show more points than it has pixels; the envelope keeps what matters when a
    million bars are squeezed into a thousand: every spike (a drawdown, a price wick) stays visible.
    """
    n = len(values)
    size = buckets(n, count)
    if size == 1:
        return np.arange(n), values, values
    starts = np.arange(0, n, size)
    low, high = np.minimum.reduceat(values, starts), np.maximum.reduceat(values, starts)
    # close the last bucket at the last bar, so step="post" fills draw it full width
    return np.append(starts, n - 1), np.append(low, low[-1]), np.append(high, high[-1])


def minmax_line(values: np.ndarray, count: int = PLOT_BUCKETS) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of a line through each bucket's min and max in time order (plus the last value).

    At most ``2 * count + 1`` points, drawn as one line it covers the same pixels as the full series
    (the M4 idea: a bucket narrower than a pixel only needs its extremes).
    """
    n = len(values)
    size = buckets(n, count)
    if size == 1:
        return np.arange(n), values
    usable = (n // size) * size
    blocks = values[:usable].reshape(-1, size)
    offsets = np.arange(0, usable, size)
    lo, hi = blocks.argmin(axis=1), blocks.argmax(axis=1)
    first, second = np.minimum(lo, hi), np.maximum(lo, hi)
    x = np.empty(2 * len(offsets), dtype=np.int64)
    x[0::2], x[1::2] = offsets + first, offsets + second
    if usable < n:  # the ragged tail: its own extremes
        tail = values[usable:]
        x = np.concatenate([x, usable + np.sort([tail.argmin(), tail.argmax()])])
    x = np.append(x, n - 1)
    return x, values[x]


def load_rollouts(path: Path, agent_keys: bool = True) -> dict[str, dict[str, np.ndarray]]:
    """``{policy: {array name: array}}`` from an ``evaluation/<split>.npz``: what the plots use.

    Every policy's equity, and the agent's exposure, price and reward terms; the other arrays stay
    unread in the (compressed) file -- decompressing them is most of the cost on long rollouts.
    """
    out: dict[str, dict[str, np.ndarray]] = {}
    with np.load(path, allow_pickle=False) as data:
        for key in data.files:
            policy, _, name = key.partition("/")
            wanted = name == "equity" or (
                agent_keys
                and policy == "agent"
                and (name in ("exposure", "price", "weights") or name.startswith("reward_"))
            )
            if wanted:
                out.setdefault(policy, {})[name] = data[key]
    return out


def _figure(height: float, rows: int = 1, **kwargs: Any) -> tuple[Any, Any]:
    """A figure on the Agg canvas directly (no pyplot state) with fixed margins (no tight-bbox re-draw)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(FIG_WIDTH, height))
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1, **kwargs)
    fig.subplots_adjust(left=0.07, right=0.985, top=0.9, bottom=0.13 if rows == 1 else 0.1, hspace=0.15)
    return fig, axes


def _log_scale_if_wide(ax: Any, *series: np.ndarray) -> None:
    """Log y-axis when positive values span more than two orders of magnitude (a linear one shows a flat line).

    A ruined (zero) equity is clipped to the bottom of the axis rather than dropped.
    """
    positive = [y[y > 0] for y in series]
    positive = [y for y in positive if len(y)]
    if not positive:
        return
    low, high = min(float(y.min()) for y in positive), max(float(y.max()) for y in positive)
    if high / low > 100:
        ax.set_yscale("log", nonpositive="clip")


def _figure_png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PNG_DPI)
    return buffer.getvalue()


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


STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th:first-child{text-align:left}.verdict{padding:.7em 1em;border-radius:6px;background:#f4f4f4}
.bad{background:#fde8e8}.good{background:#e6f6e6}img{max-width:100%}pre{background:#f6f6f6;padding:1em;overflow:auto;
font-size:12px}.notes{font-size:13px;color:#555}"""


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
        if metrics.get("symbols"):
            from tradecore.runs.portfolio_report import attribution_table

            parts.append(attribution_table(metrics))
        notes = metrics.get("baseline_notes") or {}
        if notes:
            items = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in notes.items())
            parts.append(f"<ul class='notes'>{items}</ul>")
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
