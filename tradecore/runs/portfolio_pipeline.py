"""The data and features stages of a portfolio run (``env.type: "portfolio"``); the other stages are shared.

The data stage loads every symbol of ``source.params.symbols`` with the manifest's source and aligns them on
one grid (:func:`tradecore.env.portfolio_experiment.load_aligned`); the run records each symbol's source, the
alignment (carried no-trade slots, dropped or refused missing ones) and one content hash over the aligned
arrays, which a resumed run must match. The features stage builds the per-asset features and the splits.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from tradecore.errors import TradecoreError

if TYPE_CHECKING:
    from tradecore.data.align import AlignedCandles
    from tradecore.runs.pipeline import RunState


def stage_portfolio_data(state: RunState) -> str:
    from tradecore.env.portfolio_experiment import load_aligned

    resolved = state.request.resolved
    aligned = load_aligned(resolved, state.ctx)
    fingerprint = aligned_fingerprint(aligned, resolved.source.spec.name)
    recorded = state.record.get("data")
    if recorded and recorded.get("sha256") != fingerprint["sha256"]:
        raise TradecoreError(
            f"the data changed since this run started (content hash {recorded['sha256'][:12]} -> "
            f"{fingerprint['sha256'][:12]}); a resumed run needs the same candles: start a new run instead"
        )
    state.candles = aligned
    state.record["data"] = fingerprint
    state.outputs["data"] = fingerprint["source"]
    alignment = fingerprint["alignment"]
    carried = sum(a["no_trades_slots"] for a in alignment["assets"].values())
    dropped = alignment["dropped_slots"]
    holes = (f"; {carried:,} no-trade slots carried" if carried else "") + (
        f"; {dropped:,} missing slots dropped" if dropped else ""
    )
    return (
        f"{len(aligned):,} {aligned.timeframe} bars of {aligned.assets} assets ({', '.join(aligned.symbols)}) "
        f"from {fingerprint['first']} to {fingerprint['last']}{holes}"
    )


def stage_portfolio_features(state: RunState) -> str:
    from tradecore.env.portfolio_experiment import build_portfolio_experiment

    state.experiment = exp = build_portfolio_experiment(state.request.resolved, state.candles)
    time = exp.market.time
    state.record["splits"] = {
        name: {
            "start": r.start,
            "stop": r.stop,
            "bars": len(r),
            "first": _iso(time[r.start]) if len(r) else None,
            "last": _iso(time[r.stop - 1]) if len(r) else None,
        }
        for name, r in exp.splits.items()
    }
    state.record["embargo"] = {"bars": exp.embargo, "from": exp.embargo_reason, "feature_lookback": exp.first}
    parts = ", ".join(f"{n} {len(r):,}" for n, r in exp.splits.items())
    names = ", ".join(exp.market.feature_names[:6]) + (" ..." if len(exp.market.feature_names) > 6 else "")
    embargo = f"embargo {exp.embargo:,} bars ({exp.embargo_reason})"
    return (
        f"{len(exp.feature_names)} features ({exp.market.assets} assets x {len(exp.market.feature_names)}: {names}); "
        f"bars: {parts}; {embargo}"
    )


def aligned_fingerprint(aligned: AlignedCandles, source_type: str) -> dict[str, Any]:
    """Sources, alignment, time range and SHA-256 over the aligned time, prices, volume and no-trade marks."""
    digest = hashlib.sha256()
    for array in (aligned.time, aligned.prices, aligned.volume, aligned.traded):
        digest.update(np.ascontiguousarray(array).tobytes())
    record = dict(aligned.record)
    sources = record.pop("sources", {})
    return {
        "source": {"type": source_type, "pair": ", ".join(aligned.symbols), "symbols": sources},
        "timeframe": aligned.timeframe,
        "rows": len(aligned),
        "first": _iso(aligned.time[0]),
        "last": _iso(aligned.time[-1]),
        "sha256": digest.hexdigest(),
        "alignment": record,
    }


def _iso(ms: Any) -> str:
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC).isoformat().replace("+00:00", "Z")
