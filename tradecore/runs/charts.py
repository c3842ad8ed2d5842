"""Interactive charts of a run: Plotly figure dicts built from what the run folder records.

Each figure is ``{"id", "title", "figure": {"data": [...], "layout": {...}}}``, plain JSON (lists, numbers,
strings; ``None`` for gaps), ready for ``Plotly.newPlot(div, figure.data, figure.layout)`` in a page or
``report.html``. Nothing here imports plotly: the dicts are the JSON schema plotly.js reads, and
:func:`plotly_js_path` only locates the plotly package's bundled ``plotly.min.js`` for pages to inline.

Time axes carry epoch milliseconds (UTC) on ``"type": "date"`` axes, which plotly.js shows as UTC dates.
Long rollouts are drawn from the report's per-bucket min/max envelopes (:func:`tradecore.runs.report.minmax_line`
and :func:`~tradecore.runs.report.envelope`) and the price from at most :data:`MAX_CANDLES` aggregated
candles, so a chart of a million bars stays a few hundred kilobytes.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from tradecore.errors import TradecoreError
from tradecore.runs.folder import METRICS_FILE, read_json
from tradecore.runs.metrics import drawdown_curve
from tradecore.runs.series import (
    bucket_means,
    buckets,
    envelope,
    is_wide,
    load_rollouts,
    minmax_line,
    read_training_curve,
)

#: candles drawn at most; longer rollouts are aggregated (open of the first bar, close of the last, extremes)
MAX_CANDLES = 2000
#: trade markers of each kind drawn at most (the first per candle beyond that)
MAX_MARKERS = 2000
#: significant digits kept in the JSON: more than a chart can show, a third of the bytes of a full float
DIGITS = 6
AGENT_COLOR = "#111111"
HEIGHT = 380


def plotly_js_path() -> Path:
    """The plotly package's bundled ``plotly.min.js`` (found without importing plotly)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise TradecoreError("interactive charts need the plotly package; install it with `pip install plotly`")
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise TradecoreError(f"the plotly package has no {path.name} at {path}; reinstall it (`pip install plotly`)")
    return path


def run_figures(run_dir: Path, split: str | None = None, *, evaluation_dir: Path | None = None) -> list[dict]:
    """Every chart of the run at ``run_dir``: price with trades, equity, drawdown, exposure, reward terms, training.

    ``evaluation_dir`` holds ``metrics.json`` and ``evaluation/<split>.npz`` when they are not in the run
    folder itself (``tradecore eval`` writes them to a folder of their own); ``split`` defaults to the one
    ``metrics.json`` names. Charts whose input was not recorded are left out.
    """
    run_dir = Path(run_dir)
    source = Path(evaluation_dir) if evaluation_dir else run_dir
    rollout_path = source / "evaluation" / f"{split or _recorded_split(source)}.npz"
    rollouts = load_rollouts(rollout_path) if rollout_path.is_file() else {}
    metrics = read_json(source / METRICS_FILE) if (source / METRICS_FILE).is_file() else {}
    return rollout_figures(rollouts, metrics) + training_figures(read_training_curve(run_dir / "training.csv"))


def _recorded_split(folder: Path) -> str:
    metrics_path = folder / METRICS_FILE
    return (read_json(metrics_path).get("split") if metrics_path.is_file() else None) or "test"


def rollout_figures(rollouts: dict[str, dict[str, np.ndarray]], metrics: dict[str, Any] | None = None) -> list[dict]:
    """The evaluation charts from :func:`~tradecore.runs.report.load_rollouts`' arrays (empty without an agent);
    a portfolio's (its agent has ``weights``) show weights and per-asset contribution (from ``metrics``) instead of
    the price and exposure of one pair."""
    agent = rollouts.get("agent")
    if not agent or "time" not in agent:
        return []
    time = agent["time"]
    if "weights" in agent:
        return portfolio_figures(rollouts, metrics or {})
    figures = [
        price_figure(agent),
        equity_figure(rollouts, time),
        drawdown_figure(rollouts, time),
        exposure_figure(agent["exposure"], time),
    ]
    terms = {k.removeprefix("reward_"): v for k, v in agent.items() if k.startswith("reward_")}
    if terms:
        figures.append(reward_terms_figure(terms, time))
    return figures


def training_figures(curve: dict[str, list[float]]) -> list[dict]:
    if not curve.get("timesteps"):
        return []
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": label,
            "x": _numbers(curve["timesteps"]),
            "y": _numbers(curve[key]),
        }
        for key, label in (("validation_score", "validation return"), ("train_episode_return", "train episode return"))
        if key in curve
    ]
    layout = _layout("Training curves", "return")
    layout["xaxis"] = {"title": {"text": "timesteps"}}
    layout["legend"]["y"] = -0.25  # below the axis title
    return [_chart("training", "Training curves", data, layout)]


def compare_figures(run_dirs: list[Path]) -> list[dict]:
    """Equity and drawdown of the agents of several runs overlaid (runs without an evaluated agent are left out)."""
    equity, drawdown = [], []
    for run_dir in map(Path, run_dirs):
        rollout_path = run_dir / "evaluation" / f"{_recorded_split(run_dir)}.npz"
        agent = load_rollouts(rollout_path).get("agent") if rollout_path.is_file() else None
        if not agent or "time" not in agent:
            continue
        time, curve = agent["time"], agent["equity"]
        x, y = minmax_line(curve / curve[0])
        equity.append(_line(run_dir.name, time[x], y))
        x, _, deepest = envelope(drawdown_curve(curve))
        drawdown.append({**_line(run_dir.name, time[x], -deepest * 100), "line": {"shape": "hv", "width": 1.2}})
    if not equity:
        return []
    return [
        _chart("compare_equity", "Equity of each run's agent", equity, _layout("Equity (1.0 = initial)", "equity")),
        _chart("compare_drawdown", "Drawdown of each run's agent", drawdown, _layout("Drawdown (%)", "drawdown %")),
    ]


# -- the evaluation charts -----------------------------------------------------------------------------------
def price_figure(agent: dict[str, np.ndarray]) -> dict:
    """Candles (aggregated to at most MAX_CANDLES) with the agent's entries and exits marked."""
    time, close = agent["time"], agent["price"]
    if {"open", "high", "low"} <= agent.keys():
        open_, high, low = agent["open"], agent["high"], agent["low"]
    else:  # a rollout recorded before candles were: each bar opens at the previous close
        open_ = np.concatenate([close[:1], close[:-1]])
        high, low = np.maximum(open_, close), np.minimum(open_, close)
    size = buckets(len(close), MAX_CANDLES)
    starts = np.arange(0, len(close), size)
    ends = np.append(starts[1:], len(close)) - 1
    candles = {
        "type": "candlestick",
        "name": "price" if size == 1 else f"price ({size} bars per candle)",
        "x": _times(time[starts]),
        "open": _numbers(open_[starts]),
        "high": _numbers(np.maximum.reduceat(high, starts)),
        "low": _numbers(np.minimum.reduceat(low, starts)),
        "close": _numbers(close[ends]),
    }
    data = [candles, *_trade_markers(agent["exposure"], time, close, size)]
    layout = _layout("Price and the agent's trades", "price", hovermode="x")
    layout["xaxis"]["rangeslider"] = {"visible": True, "thickness": 0.08}
    # below the range slider (the default place would cover it)
    layout["legend"]["y"] = -0.3
    layout["margin"]["b"] = 90
    layout["height"] = HEIGHT + 140
    if is_wide(low, high):
        layout["yaxis"]["type"] = "log"
    return _chart("price", "Price with the agent's entries and exits", data, layout)


def _trade_markers(exposure: np.ndarray, time: np.ndarray, close: np.ndarray, size: int) -> list[dict]:
    """Entries (long up, short down) and exits where the agent's exposure changes, at that bar's close."""
    before = np.concatenate([[0.0], exposure[:-1]])
    changed = exposure != before
    flipped = changed & (np.sign(exposure) != np.sign(before))
    kinds = [
        ("long entry", flipped & (exposure > 0), "triangle-up", "#1a9850"),
        ("short entry", flipped & (exposure < 0), "triangle-down", "#d73027"),
        ("exit", changed & (exposure == 0), "x", "#555555"),
        ("resize", changed & ~flipped, "circle-open", "#4575b4"),
    ]
    markers = []
    for name, mask, symbol, color in kinds:
        bars = np.flatnonzero(mask)
        if len(bars) > MAX_MARKERS:  # the first of each candle: one marker per candle at most
            bars = bars[np.unique(bars // size, return_index=True)[1]]
            bars = bars[:: -(-len(bars) // MAX_MARKERS)]
        if not len(bars):
            continue
        markers.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": name,
                "x": _times(time[bars]),
                "y": _numbers(close[bars]),
                "customdata": _numbers(exposure[bars]),
                "hovertemplate": f"{name}: exposure %{{customdata}}<extra></extra>",
                "marker": {"symbol": symbol, "color": color, "size": 9, "line": {"width": 1, "color": color}},
                # resizes crowd the chart: one click in the legend shows them
                **({"visible": "legendonly"} if name == "resize" else {}),
            }
        )
    return markers


def equity_figure(rollouts: dict[str, dict[str, np.ndarray]], time: np.ndarray) -> dict:
    """Equity (1.0 = initial) of the agent and each baseline; the random seeds as one band."""
    data, drawn = [], []
    randoms = [arrays["equity"] / arrays["equity"][0] for p, arrays in rollouts.items() if p.startswith("random_")]
    for policy, arrays in rollouts.items():
        if policy.startswith("random_") or "equity" not in arrays:
            continue
        x, y = minmax_line(arrays["equity"] / arrays["equity"][0])
        drawn.append(y)
        trace = _line(policy, time[x], y)
        if policy == "agent":
            trace["line"] = {"color": AGENT_COLOR, "width": 2.2}
        data.append(trace)
    if randoms:
        stacked = np.vstack(randoms)
        x, low, _ = envelope(stacked.min(axis=0))
        _, _, high = envelope(stacked.max(axis=0))
        drawn += [low, high]
        band = {"shape": "hv", "width": 0, "color": "rgba(120,120,120,0.5)"}
        name = f"random ({len(randoms)} seeds, min to max)"
        data += [
            {**_line(name, time[x], low), "line": band, "legendgroup": "random", "showlegend": False},
            {**_line(name, time[x], high), "line": band, "legendgroup": "random", "fill": "tonexty"},
        ]
        data[-2]["hovertemplate"], data[-1]["hovertemplate"] = "min %{y}", "max %{y}"
    layout = _layout("Equity on the evaluation bars (1.0 = initial)", "equity")
    if is_wide(*drawn):
        layout["yaxis"]["type"] = "log"
    return _chart("equity", "Equity of the agent and each baseline", data, layout)


def drawdown_figure(rollouts: dict[str, dict[str, np.ndarray]], time: np.ndarray) -> dict:
    """Drawdown (%) of the agent and each baseline: the deepest point of each plotted bucket."""
    data = []
    for policy, arrays in rollouts.items():
        if policy.startswith("random_") or "equity" not in arrays:
            continue
        x, _, deepest = envelope(drawdown_curve(arrays["equity"]))
        trace = {**_line(policy, time[x], -deepest * 100), "line": {"shape": "hv", "width": 1}, "fill": "tozeroy"}
        if policy == "agent":
            trace["line"]["color"] = AGENT_COLOR
        else:  # one click in the legend shows a baseline; all at once hide each other
            trace["visible"] = "legendonly" if policy != "buy_and_hold" else True
        data.append(trace)
    layout = _layout("Drawdown (%, deepest point per plotted bucket)", "drawdown %")
    return _chart("drawdown", "Drawdown", data, layout)


def exposure_figure(exposure: np.ndarray, time: np.ndarray) -> dict:
    """The agent's exposure (signed, x equity): the long and short extremes held within each plotted bucket."""
    x, low, high = envelope(exposure)
    times = time[x]
    data = [
        {**_line("long", times, np.maximum(high, 0)), "line": {"shape": "hv", "color": "#1a9850"}, "fill": "tozeroy"},
        {**_line("short", times, np.minimum(low, 0)), "line": {"shape": "hv", "color": "#d73027"}, "fill": "tozeroy"},
    ]
    layout = _layout("The agent's exposure (x equity; + long, - short)", "exposure")
    return _chart("exposure", "Exposure", data, layout)


def reward_terms_figure(terms: dict[str, np.ndarray], time: np.ndarray) -> dict:
    """Cumulative weighted reward of each term over the evaluation bars."""
    data = []
    for name, values in terms.items():
        x, y = minmax_line(np.cumsum(values))
        data.append(_line(name, time[x], y))
    layout = _layout("Cumulative reward by term (weighted), agent on the evaluation bars", "cumulative reward")
    return _chart("reward_terms", "Reward-term breakdown", data, layout)


# -- the portfolio charts ------------------------------------------------------------------------------------
def portfolio_figures(rollouts: dict[str, dict[str, np.ndarray]], metrics: dict[str, Any]) -> list[dict]:
    """Equity and drawdown of agent and baselines, the agent's weights over time, each asset's contribution."""
    agent = rollouts["agent"]
    time = agent["time"]
    symbols = list(metrics.get("symbols") or [f"asset {a}" for a in range(agent["weights"].shape[1])])
    figures = [
        equity_figure(rollouts, time),
        drawdown_figure(rollouts, time),
        weights_figure(agent["weights"], symbols, time[1:]),
    ]
    contribution = contribution_figure(metrics)
    if contribution is not None:
        figures.append(contribution)
    terms = {k.removeprefix("reward_"): v for k, v in agent.items() if k.startswith("reward_")}
    if terms:
        figures.append(reward_terms_figure(terms, time))
    return figures


def weights_figure(weights: np.ndarray, symbols: list[str], time: np.ndarray) -> dict:
    """The agent's weights (after each step's fills, at the open) stacked with cash on top: each plotted
    bucket's mean, so the stack still sums to the invested share (extremes would not stack)."""
    starts, means = bucket_means(np.asarray(weights, dtype=np.float64))
    size = buckets(len(weights))
    cash = np.clip(1.0 - means.sum(axis=1), 0.0, None)
    x = time[starts]
    data = [
        {**_line(name, x, values), "stackgroup": "weights", "line": {"shape": "hv", "width": 0.5}}
        for name, values in zip([*symbols, "cash"], [*means.T, cash])
    ]
    title = "The agent's weights" + ("" if size == 1 else f" (mean of each {size} bars)")
    layout = _layout(title, "weight (share of equity)")
    return _chart("weights", "Weights over time", data, layout)


def contribution_figure(metrics: dict[str, Any]) -> dict | None:
    """Each asset's contribution to the total return (after its fees and slippage), agent and each baseline,
    side by side; None when the metrics hold no attribution."""
    policies = {"agent": metrics.get("agent"), **(metrics.get("baselines") or {})}
    policies = {k: v for k, v in policies.items() if v and v.get("assets")}
    if not policies:
        return None
    symbols = list(next(iter(policies.values()))["assets"])
    data = []
    for name, m in policies.items():
        trace = {
            "type": "bar",
            "name": name,
            "x": symbols,
            "y": _numbers([(m["assets"][s]["contribution"] or 0.0) * 100 for s in symbols]),
            "customdata": _numbers([(m["assets"][s]["costs"] or 0.0) * 100 for s in symbols]),
            "hovertemplate": f"{name} %{{x}}: %{{y:.2f}}% (costs %{{customdata:.2f}}%)<extra></extra>",
        }
        if name == "agent":
            trace["marker"] = {"color": AGENT_COLOR}
        data.append(trace)
    layout = _layout("Contribution to total return by asset (%, after its fees and slippage)", "contribution %")
    layout["barmode"] = "group"
    layout["xaxis"] = {"type": "category", "title": {"text": "asset"}}
    layout["hovermode"] = "closest"
    return _chart("contribution", "Contribution by asset", data, layout)


# -- JSON helpers ----------------------------------------------------------------------------------------------
def _chart(chart_id: str, title: str, data: list[dict], layout: dict) -> dict:
    return {"id": chart_id, "title": title, "figure": {"data": data, "layout": layout}}


def _layout(title: str, y_title: str, *, hovermode: str = "x unified") -> dict:
    return {
        "title": {"text": title, "font": {"size": 15}},
        "height": HEIGHT,
        "margin": {"l": 64, "r": 24, "t": 48, "b": 40},
        # hover labels name the hour: ticks alone say only the day on most ranges
        "xaxis": {"type": "date", "hoverformat": "%Y-%m-%d %H:%M UTC"},
        "yaxis": {"title": {"text": y_title}},
        "hovermode": hovermode,
        "hoverlabel": {"namelength": -1},
        "legend": {"orientation": "h", "y": -0.15, "yanchor": "top"},
    }


def _line(name: str, time: np.ndarray, values: np.ndarray) -> dict:
    # the value only: a unified hover label shows the time once, not once per (downsampled) trace
    return {
        "type": "scatter",
        "mode": "lines",
        "name": name,
        "x": _times(time),
        "y": _numbers(values),
        "hovertemplate": "%{y}",
    }


def _times(ms: np.ndarray) -> list[int]:
    return np.asarray(ms, dtype=np.int64).tolist()


def _numbers(values: Any, digits: int = DIGITS) -> list[float | None]:
    """Floats rounded to ``digits`` significant digits of the largest magnitude (short JSON); NaN/inf -> None."""
    array = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(array)
    if not finite.any():
        return [None] * len(array)
    top = float(np.abs(array[finite]).max())
    decimals = max(0, digits - 1 - int(np.floor(np.log10(top)))) if top > 0 else 0
    rounded = np.round(array, decimals).tolist()
    return rounded if finite.all() else [v if ok else None for v, ok in zip(rounded, finite.tolist())]
