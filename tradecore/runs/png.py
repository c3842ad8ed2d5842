"""Matplotlib figures drawn on the Agg canvas (no pyplot state) and their PNG bytes: the reports' static plots."""

from __future__ import annotations

import io
from typing import Any

FIG_WIDTH = 10.0
PNG_DPI = 90


def new_figure(height: float, rows: int = 1, **kwargs: Any) -> tuple[Any, Any]:
    """A figure on the Agg canvas directly (no pyplot state) with fixed margins (no tight-bbox re-draw)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(FIG_WIDTH, height))
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1, **kwargs)
    fig.subplots_adjust(left=0.07, right=0.985, top=0.9, bottom=0.13 if rows == 1 else 0.1, hspace=0.15)
    return fig, axes


def png_bytes(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PNG_DPI)
    return buffer.getvalue()
