"""Fixtures for paper trading: a tiny policy trained by the real ``ppo-fast`` trainer on synthetic candles that
are also stored in a lake, and helpers to run a paper replay and the evaluation it must equal."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
PAIR = "SYN/USD"
TINY: dict[str, Any] = {
    "version": 1,
    "name": "tiny-paper",
    "seed": 3,
    "source": {"type": "synthetic", "params": {"symbol": PAIR, "bars": 1500, "timeframe": "1h", "seed": 11}},
    "indicators": [{"type": "log_returns", "params": {"period": 1}}, {"type": "rsi", "params": {"period": 14}}],
    "env": {
        "window": 8,
        "episode_steps": 48,
        "normalize_window": 100,
        "fee_bps": 10,
        "slippage_bps": 5,
        "actions": {
            "direction": True,
            "size_buckets": [0.5, 1.0],
            "stop_loss_pct": [0.005, 0.02],
            "take_profit_pct": [0.01, 0.05],
        },
    },
    "reward": [{"type": "pnl"}, {"type": "turnover", "weight": 0.001}],
    "split": {"train": 0.6, "validation": 0.2, "test": 0.2},
    "trainer": {
        "type": "ppo-fast",
        "params": {"total_timesteps": 1024, "n_envs": 16, "n_steps": 32, "n_epochs": 2, "n_minibatches": 2,
                   "eval_freq": 1024, "checkpoint_freq": 1024},
    },
}  # fmt: skip


@pytest.fixture(scope="session")
def runtime() -> Any:
    pytest.importorskip("tradecore_ppo")
    import tradecore_ppo.hooks

    from tradecore.api import Runtime

    return Runtime(plugins=[tradecore_ppo.hooks], entrypoints=False)


@pytest.fixture(scope="session")
def paper_run(runtime, tmp_path_factory) -> dict[str, Any]:
    """A run folder with a policy trained by ``ppo-fast`` (the pipeline's data, features and train stages; the
    evaluation and report stages are skipped to keep the tests fast), and a lake holding the run's candles."""
    root = tmp_path_factory.mktemp("paper")
    return train_tiny(runtime, root, copy.deepcopy(TINY))


def train_tiny(runtime: Any, root: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Train ``manifest`` (TINY or a variant) into ``root/runs/``; its source's candles go into ``root/lake``."""
    from tradecore.api import Candles, Lake, RunContext, build_experiment, write_json
    from tradecore.runs.folder import data_fingerprint

    lake_root = root / "lake"
    resolved = runtime.resolve(manifest)
    source = resolved.source.build()
    frame = source.load(RunContext(lake_root=lake_root))
    params = manifest["source"]["params"]
    Lake(lake_root).write("synthetic", params["symbol"], params["timeframe"], frame, "synthetic")
    candles = Candles.from_frame(frame, params["timeframe"])
    run_dir = root / "runs" / f"20260101T000000Z-{manifest['name']}"
    run_dir.mkdir(parents=True)
    ctx = RunContext(lake_root=lake_root, seed=manifest["seed"], run_dir=run_dir)
    trained = resolved.trainer.build().train(build_experiment(resolved, candles, ctx), ctx)
    write_json(run_dir / "manifest.input.json", manifest)
    write_json(run_dir / "manifest.json", resolved.as_dict())
    record = {"name": manifest["name"], "status": "complete", "trainer": trained.as_dict()}
    write_json(run_dir / "run.json", {**record, "data": data_fingerprint(source.describe(), candles)})
    return {"run_dir": run_dir, "runs_root": root / "runs", "lake": lake_root, "frame": frame}


def replay(run: dict[str, Any], runtime: Any, start_ms: int, end_ms: int, **fields: Any) -> Path:
    """Paper-replay ``run``'s policy over the lake's candles in [start, end); returns the ledger folder."""
    from tradecore.paper.session import PaperRequest, PaperSession

    options = {"exchange": "synthetic", "pair": PAIR, "timeframe": "1h", **fields}
    request = PaperRequest(
        run_dir=run["run_dir"], lake_root=run["lake"], replay=True, start_ms=start_ms, end_ms=end_ms,
        echo=lambda line: None, **options,
    )  # fmt: skip
    session = PaperSession(runtime, request, trust_model=True)
    try:
        assert session.follow(lambda: False) == "done"
    finally:
        session.close("done")
    return session.folder
