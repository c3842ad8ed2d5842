"""Episode plots: price with trade markers over an equity curve, as PNG or an RGB array (Agg backend)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _figure(record: dict[str, np.ndarray], title: str):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 5), dpi=100)
    ax_price, ax_eq = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    x = record["bar"]
    ax_price.plot(x, record["price"], color="0.3", lw=1, label="close")
    position = record["position"]
    for mask, marker, color, label in (
        (record["opened"] & (position > 0), "^", "tab:green", "open long"),
        (record["opened"] & (position < 0), "v", "tab:red", "open short"),
        (record["closed"] & ~record["stop_hit"] & ~record["take_hit"], "x", "0.2", "close"),
        (record["stop_hit"], "X", "tab:red", "stop"),
        (record["take_hit"], "*", "tab:green", "take"),
    ):
        if mask.any():
            ax_price.scatter(x[mask], record["price"][mask], marker=marker, color=color, s=30, label=label, zorder=3)
    ax_price.set_ylabel("price")
    ax_price.set_title(title)
    ax_price.legend(loc="best", fontsize=7)
    ax_eq.plot(x, record["equity"], color="tab:blue", lw=1.2)
    ax_eq.set_ylabel("equity")
    ax_eq.set_xlabel("bar")
    fig.tight_layout()
    return fig


def episode_figure_rgb(record: dict[str, np.ndarray], title: str = "episode") -> np.ndarray:
    """The episode plot as an ``(H, W, 3)`` uint8 array (gymnasium's ``rgb_array`` render mode)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = _figure(record, title)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def save_episode_png(record: dict[str, np.ndarray], path: str | Path, title: str = "episode") -> Path:
    """Write the episode plot (from ``TradingEnv.episode_record()``) to ``path`` as PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    path = Path(path)
    fig = _figure(record, title)
    FigureCanvasAgg(fig).print_png(str(path))
    return path
