"""The portfolio PNG plots of the run report: the agent's weights over time and each asset's contribution."""

from __future__ import annotations

from typing import Any

import numpy as np

from tradecore.runs.png import new_figure, png_bytes
from tradecore.runs.series import bucket_means


def plot_weights(weights: np.ndarray, symbols: list[str]) -> bytes:
    """Stacked area of the agent's weights (at each open, after its fills), cash on top."""
    x, rows = bucket_means(np.asarray(weights, dtype=np.float64))
    cash = np.clip(1.0 - rows.sum(axis=1), 0.0, None)
    fig, ax = new_figure(3.6)
    ax.stackplot(x, *rows.T, cash, labels=[*symbols, "cash"], alpha=0.85, step="post")
    ax.set_ylim(0, max(1.0, float((rows.sum(axis=1) + cash).max())))
    ax.set_title("The agent's weights over the evaluation bars (mean per plotted bucket)")
    ax.set_xlabel("bar")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncols=min(len(symbols) + 1, 6), loc="upper left")
    return png_bytes(fig)


def plot_contribution(metrics: dict[str, Any]) -> bytes | None:
    """Each asset's contribution to the total return (costs included) and its costs, agent and baselines."""
    policies = {"agent": metrics.get("agent"), **(metrics.get("baselines") or {})}
    policies = {k: v for k, v in policies.items() if v and v.get("assets")}
    if not policies:
        return None
    symbols = list(next(iter(policies.values()))["assets"])
    fig, ax = new_figure(3.4)
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
    return png_bytes(fig)
