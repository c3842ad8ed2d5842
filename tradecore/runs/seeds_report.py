"""``seeds.html``: the report of a seed group, in the run report's style (one self-contained page).

A plot of every seed's test return and Sharpe with the mean, the IQM and the mean's 95% CI, the
across-seed table, and one row per seed linking to that run's own ``report.html``.
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path
from typing import Any

from tradecore.runs.folder import REPORT_FILE
from tradecore.runs.report import STYLE, _figure, _figure_png
from tradecore.runs.seeds import AGGREGATE_HEADERS, METRICS, SEEDS_REPORT_FILE, aggregate_rows, fmt_num, fmt_pct


def plot_seeds(summary: dict[str, Any]) -> bytes | None:
    """Per-seed return and Sharpe as points, with the mean (line), its 95% CI (band) and the IQM (dashed)."""
    scored = [r for r in summary["runs"] if r["status"] == "done" and r["total_return"] is not None]
    if not scored:
        return None
    fig, axes = _figure(5.2, rows=2, sharex=True)
    labels = [str(r["seed"]) for r in scored]
    x = list(range(len(scored)))
    for ax, (key, label) in zip(axes, METRICS, strict=True):
        scale = 100.0 if key == "total_return" else 1.0
        stats = summary["aggregate"][key]
        values = [r[key] * scale if r[key] is not None else float("nan") for r in scored]
        ax.scatter(x, values, color="black", zorder=3, label="seed")
        if stats["mean"] is not None:
            low, high = (v * scale for v in stats["mean_ci95"])
            ax.axhspan(low, high, color="tab:blue", alpha=0.15, label="mean 95% CI")
            ax.axhline(stats["mean"] * scale, color="tab:blue", linewidth=1.5, label="mean")
            ax.axhline(stats["iqm"] * scale, color="tab:orange", linewidth=1.2, linestyle="--", label="IQM")
        ax.axhline(0, color="grey", linewidth=0.6)
        ax.set_xlim(-0.5, len(x) - 0.5)
        ax.set_ylabel(f"{label} (%)" if key == "total_return" else label)
        ax.grid(alpha=0.3)
    axes[0].set_title(f"Agent on the {summary.get('split') or 'test'} split, one point per seed")
    axes[0].legend(fontsize=8, ncols=4, loc="best")  # a handful of points: "best" is cheap here
    axes[-1].set_xticks(x, labels)
    axes[-1].set_xlabel("seed")
    return _figure_png(fig)


def _cell(text: str) -> str:
    return f"<td>{html.escape(text)}</td>"


def render_seeds_report(folder: Path, summary: dict[str, Any]) -> Path:
    """Write ``seeds.html`` into the group ``folder`` and return its path."""
    name = html.escape(summary["name"])
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>tradecore seeds: {name}</title>"
        f"<style>{STYLE}</style></head><body><h1>{name}: {len(summary['runs'])} seed(s)</h1>",
        f"<p>Seeds {html.escape(', '.join(map(str, summary['seeds'])))} ({html.escape(summary['seeds_chosen'])}). "
        "Each seed is a complete run in its own folder; the table aggregates the agent's deterministic "
        f"evaluation over the {summary['evaluated']} seed(s) that reached it: mean and interquartile mean "
        f"(IQM, the mean of the middle 50%), with {summary['bootstrap']['confidence']:.0%} percentile intervals "
        f"from {summary['bootstrap']['resamples']:,} stratified bootstrap resamples over seeds, as rliable "
        "recommends.</p>",
    ]
    if summary["evaluated"]:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in AGGREGATE_HEADERS)
        body = "".join(
            f"<tr><th>{html.escape(row[0])}</th>{''.join(_cell(c) for c in row[1:])}</tr>"
            for row in aggregate_rows(summary)
        )
        parts.append(f"<table><tr>{head}</tr>{body}</table>")
    png = plot_seeds(summary)
    if png is not None:
        data = base64.b64encode(png).decode("ascii")
        parts.append(f"<h2>Per-seed results</h2><img alt='seeds' src='data:image/png;base64,{data}'>")
    baselines = list(summary["aggregate"]["beat_rate"])
    head = "".join(
        f"<th>{html.escape(h)}</th>"
        for h in ["seed", "status", "return", "sharpe", *[f"beat {b}" for b in baselines], "seconds", "run"]
    )
    rows = []
    for r in summary["runs"]:
        beat = ["" if b not in r["beat"] else ("yes" if r["beat"][b] else "NO") for b in baselines]
        if r["run_dir"] and (Path(r["run_dir"]) / REPORT_FILE).is_file():
            link = os.path.relpath(Path(r["run_dir"]) / REPORT_FILE, folder)
            run = f"<td><a href='{html.escape(link)}'>{html.escape(Path(r['run_dir']).name)}</a></td>"
        else:
            run = _cell(r["error"] or "")
        seconds = f"{r['seconds'] or 0:.1f}"
        cells = [str(r["seed"]), r["status"], fmt_pct(r["total_return"]), fmt_num(r["sharpe"]), *beat, seconds]
        rows.append(f"<tr>{''.join(_cell(c) for c in cells)}{run}</tr>")
    parts.append(f"<h2>Seeds</h2><table><tr>{head}</tr>{''.join(rows)}</table></body></html>")
    target = folder / SEEDS_REPORT_FILE
    target.write_text("".join(parts), encoding="utf-8")
    return target
