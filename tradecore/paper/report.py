"""The paper report: the run report's metrics and plots over a session's ledger (``metrics.json``, ``report.html``).

Read from the committed ledger only, so ``tradecore paper report LEDGER`` rebuilds it at any time, also while the
session runs. Metrics are :func:`tradecore.runs.metrics.compute_metrics` over the equity from the first decision.
"""

from __future__ import annotations

import base64
import html
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from tradecore.paper.ledger import SESSION_FILE, STATE_FILE, read_lines
from tradecore.runs.folder import METRICS_FILE, REPORT_FILE, RunFolderError, read_json, write_json
from tradecore.runs.metrics import compute_metrics
from tradecore.runs.report import PLOTS_DIR, STYLE, TABLE_ROWS, fmt, plot_drawdown, plot_equity, plot_position


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def ledger_arrays(folder: Path) -> dict[str, np.ndarray]:
    """The session's per-bar arrays in the run report's rollout layout: ``equity`` and ``price``/``time`` from
    the first decision, ``exposure`` and ``costs`` per bar after it."""
    equity = read_lines(folder, "equity")
    positions = read_lines(folder, "positions")
    return {
        "equity": np.array([r["equity"] for r in equity], dtype=np.float64),
        "price": np.array([r["close"] for r in equity], dtype=np.float64),
        "time": np.array([r["time"] for r in equity], dtype=np.int64),
        "exposure": np.array([p["exposure"] for p in positions[1:]], dtype=np.float64),
        "costs": np.array([r["fee"] + r["slippage"] for r in equity[1:]], dtype=np.float64),
    }


def paper_metrics(folder: Path) -> dict[str, Any]:
    """Session facts, fills and orders counted, and the run report's metrics once two bars are in."""
    folder = Path(folder)
    if not (folder / SESSION_FILE).is_file() or not (folder / STATE_FILE).is_file():
        raise RunFolderError(f"{folder} is not a paper ledger (no {SESSION_FILE} or {STATE_FILE})")
    session, state = read_json(folder / SESSION_FILE), read_json(folder / STATE_FILE)
    arrays = ledger_arrays(folder)
    fills = read_lines(folder, "fills")
    out: dict[str, Any] = {
        "session": session,
        "status": state.get("status"),
        "bars": max(0, len(arrays["equity"]) - 1),
        "orders": len(read_lines(folder, "orders")),
        "fills": len(fills),
        "exits": {k: sum(1 for f in fills if f["reason"] == k) for k in ("stop_loss", "take_profit")},
        "range": {"first": _iso(int(arrays["time"][0])), "last": _iso(int(arrays["time"][-1]))}
        if len(arrays["time"])
        else None,
        "agent": None,
    }
    if len(arrays["equity"]) >= 2:
        out["agent"] = compute_metrics(arrays["equity"], arrays["exposure"], arrays["costs"], session["timeframe"])
    return out


def render_paper_report(folder: Path) -> Path:
    """Write ``metrics.json``, the plots and ``report.html`` into the ledger folder; returns the report's path."""
    folder = Path(folder)
    metrics = paper_metrics(folder)
    write_json(folder / METRICS_FILE, metrics)
    session = metrics["session"]
    title = f"Paper session {folder.name}"
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
        f"<p>Run <b>{html.escape(session['run'])}</b>, {html.escape(session['mode'])} on "
        f"{html.escape(session['pair'])} "
        f"{html.escape(session['timeframe'])} ({html.escape(session['exchange'])} in the lake); status "
        f"<b>{html.escape(str(metrics['status']))}</b>; {metrics['bars']:,} bars after the first decision, "
        f"{metrics['orders']:,} orders, {metrics['fills']:,} fills. Fills use the environment's execution model "
        f"(next-bar open, fee {session['fee_bps']} bps, slippage {session['slippage_bps']} bps, stops against "
        "the bar's range).</p>",
    ]
    agent = metrics["agent"]
    if agent:
        rows = "".join(
            f"<tr><th>{label}</th><td>{fmt(agent.get(key), kind)}</td></tr>" for key, label, kind in TABLE_ROWS
        )
        parts.append(f"<table><tr><th>metric</th><th>paper</th></tr>{rows}</table>")
        arrays = ledger_arrays(folder)
        rollouts = {"agent": arrays}
        plots = folder / PLOTS_DIR
        plots.mkdir(exist_ok=True)
        for name, heading, png in (
            ("equity", "Equity", plot_equity(rollouts)),
            ("drawdown", "Drawdown", plot_drawdown(rollouts)),
            ("position", "Position over price", plot_position(rollouts)),
        ):
            (plots / f"{name}.png").write_bytes(png)
            data = base64.b64encode(png).decode("ascii")
            parts.append(f"<h2>{heading}</h2><img alt='{name}' src='data:image/png;base64,{data}'>")
    else:
        parts.append("<p>Fewer than two bars since the first decision: no metrics yet.</p>")
    parts.append("</body></html>")
    target = folder / REPORT_FILE
    target.write_text("".join(parts), encoding="utf-8")
    return target
