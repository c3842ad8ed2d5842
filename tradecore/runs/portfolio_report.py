"""The portfolio figures of the run report: the agent's weights over time and each asset's contribution."""

from __future__ import annotations

from typing import Any

import numpy as np

from tradecore.runs.report import PLOT_BUCKETS, _figure, _figure_png, buckets


def bucket_means(values: np.ndarray, count: int = PLOT_BUCKETS) -> tuple[np.ndarray, np.ndarray]:
    """(x, rows): the mean of each of at most ``count`` buckets of rows (weights stack; extremes would not)."""
    n = len(values)
    size = buckets(n, count)
    starts = np.arange(0, n, size)
    sums = np.add.reduceat(values, starts, axis=0)
    lengths = np.diff(np.append(starts, n))[:, None]
    return starts, sums / lengths


def plot_weights(weights: np.ndarray, symbols: list[str]) -> bytes:
    """Stacked area of the agent's weights (at each open, after its fills), cash on top."""
    x, rows = bucket_means(np.asarray(weights, dtype=np.float64))
    cash = np.clip(1.0 - rows.sum(axis=1), 0.0, None)
    fig, ax = _figure(3.6)
    ax.stackplot(x, *rows.T, cash, labels=[*symbols, "cash"], alpha=0.85, step="post")
    ax.set_ylim(0, max(1.0, float((rows.sum(axis=1) + cash).max())))
    ax.set_title("The agent's weights over the evaluation bars (mean per plotted bucket)")
    ax.set_xlabel("bar")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncols=min(len(symbols) + 1, 6), loc="upper left")
    return _figure_png(fig)


def plot_contribution(metrics: dict[str, Any]) -> bytes | None:
    """Each asset's contribution to the total return (costs included) and its costs, agent and baselines."""
    policies = {"agent": metrics.get("agent"), **(metrics.get("baselines") or {})}
    policies = {k: v for k, v in policies.items() if v and v.get("assets")}
    if not policies:
        return None
    symbols = list(next(iter(policies.values()))["assets"])
    fig, ax = _figure(3.4)
    width = 0.8 / len(policies)
    x = np.arange(len(symbols))
    for k, (name, m) in enumerate(policies.items()):
        values = [(m["assets"][s]["contribution"] or 0.0) * 100 for s in symbols]
        agent = name == "agent"
        ax.bar(x + k * width, values, width, label=name, color="black" if agent else None, alpha=0.9 if agent else 0.7)
    costs = [(policies.get("agent") or {}).get("assets", {}).get(s, {}).get("costs") for s in symbols]
    if any(c for c in costs):
        ax.scatter(x, [-(c or 0.0) * 100 for c in costs], marker="v", color="tab:red", zorder=4, label="agent costs")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xticks(x + 0.4 - width / 2, symbols)
    ax.set_title("Contribution to total return by asset (%, after each asset's fees and slippage)")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, ncols=4, loc="upper left")
    return _figure_png(fig)


def attribution_table(metrics: dict[str, Any]) -> str:
    """HTML table: per asset, each policy's contribution, costs and mean weight."""
    from html import escape

    from tradecore.runs.report import fmt

    policies = {"agent": metrics.get("agent"), **(metrics.get("baselines") or {})}
    policies = {k: v for k, v in policies.items() if v and v.get("assets")}
    if not policies:
        return ""
    head = "".join(f"<th>{escape(p)}</th>" for p in policies)
    rows = []
    for symbol in metrics.get("symbols", []):
        for key, label in (("contribution", "contribution"), ("costs", "costs"), ("mean_weight", "mean weight")):
            cells = "".join(f"<td>{fmt(m['assets'][symbol][key], 'pct')}</td>" for m in policies.values())
            rows.append(f"<tr><th>{escape(symbol)} {label}</th>{cells}</tr>")
    title = "<h2>Attribution by asset (% of initial equity)</h2>"
    return f"{title}<table><tr><th>asset</th>{head}</tr>{''.join(rows)}</table>"
