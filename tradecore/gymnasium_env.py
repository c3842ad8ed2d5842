"""The ``gymnasium.make("tradecore/Trading-v0", manifest=..., split=...)`` entry point: a manifest in, a TradingEnv
(or, for ``env.type: "portfolio"``, a PortfolioEnv) out.

It resolves the manifest with a :class:`~tradecore.runtime.Runtime` and loads its candles, so it lives
beside the runtime, not in :mod:`tradecore.env` (a stage that never imports the runtime);
:func:`tradecore.env.register_envs` names it by its import path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def make_trading_env(
    manifest: str | Path | dict[str, Any],
    split: str = "train",
    *,
    runtime: Any = None,
    render_mode: str | None = None,
    **env_kwargs: Any,
):
    """Resolve ``manifest``, load its candles, build the experiment and return ``make_env(split)``."""
    from tradecore.env.experiment import build_experiment
    from tradecore.errors import TradecoreError
    from tradecore.interfaces import Candles, RunContext
    from tradecore.paths import resolve_lake_root
    from tradecore.runtime import Runtime

    rt = runtime or Runtime()
    resolved = rt.resolve(manifest)
    ctx = RunContext(lake_root=resolve_lake_root(resolved.manifest.lake), seed=resolved.manifest.seed)
    if resolved.manifest.env.type == "portfolio":  # a PortfolioEnv over the manifest's aligned symbols
        from tradecore.env.portfolio_experiment import build_portfolio_experiment, load_aligned

        if render_mode is not None:
            raise TradecoreError('render_mode: the portfolio env (env.type "portfolio") does not render; drop it')
        return build_portfolio_experiment(resolved, load_aligned(resolved, ctx)).make_env(split, **env_kwargs)
    source = resolved.source.build()
    frame = source.load(ctx)
    candles = Candles.from_frame(frame, source.describe().get("timeframe", "1m"))
    return build_experiment(resolved, candles, ctx).make_env(split, render_mode=render_mode, **env_kwargs)
