"""Paper decision latency: a candle stored in the lake -> its action logged (ledger committed), quickstart policy.

    python bench/paper.py [--candles 300] [--repeats 3] [--run RUN]

The quickstart's manifest (its features, window, env and sb3 PPO with net [64, 64]) trained on a short budget
(latency depends on the network, not on how well it learnt), or ``--run`` an existing quickstart run folder. A
lake holds the quickstart's candles up to the session's first decision; then each of ``--candles`` candles is
written to the lake the way ``tradecore data stream`` writes one, and the clock runs from that write's return to
the ledger's commit of the decision on it: the session's poll of the lake (footer, then the new rows), settling
the pending order, features, observation, policy, and the ledger lines and state. The poll interval itself
(``--poll``, 1 s by default) is not included: it is how long a candle may wait to be looked at.

Prints ``name value`` lines: paper_latency_p50_ms, paper_latency_p99_ms (medians over the repeats),
paper_engine_p99_ms (the same without the lake poll), budget_p99_ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PAIR = "SYN/USD"


def quickstart_run(root: Path, runtime, run: Path | None) -> tuple[Path, dict]:
    """A quickstart run folder (trained here on a short budget unless given) and its manifest."""
    from tradecore.env.experiment import build_experiment
    from tradecore.interfaces import Candles, RunContext
    from tradecore.runs.folder import data_fingerprint, read_json, write_json

    if run is not None:
        return run, read_json(run / "manifest.input.json")
    manifest = json.loads((ROOT / "examples" / "quickstart.json").read_text())
    manifest.pop("$schema", None)
    manifest["trainer"]["params"].update(total_timesteps=4096, eval_freq=0, checkpoint_freq=0, tensorboard=False)
    resolved = runtime.resolve(manifest)
    source = resolved.source.build()
    ctx = RunContext(lake_root=root / "lake", seed=manifest["seed"], run_dir=root / "run")
    candles = Candles.from_frame(source.load(ctx), "1h")
    ctx.run_dir.mkdir(parents=True)
    resolved.trainer.build().train(build_experiment(resolved, candles, ctx), ctx)
    write_json(ctx.run_dir / "manifest.input.json", manifest)
    write_json(ctx.run_dir / "manifest.json", resolved.as_dict())
    write_json(ctx.run_dir / "run.json", {"status": "complete", "data": data_fingerprint(source.describe(), candles)})
    return ctx.run_dir, manifest


def one_session(root: Path, runtime, run_dir: Path, manifest: dict, candles: int, repeat: int) -> tuple[list, list]:
    from tradecore.data.lake import Lake
    from tradecore.interfaces import RunContext
    from tradecore.paper.session import PaperRequest, PaperSession

    frame = runtime.resolve(manifest).source.build().load(RunContext(lake_root=root))
    lake_root = root / f"lake-{repeat}"
    lake = Lake(lake_root)
    first = frame.height - candles - 1
    lake.write("synthetic", PAIR, "1h", frame.head(first), "synthetic")
    newest = int(frame["time"].dt.epoch("ms")[first - 1])
    request = PaperRequest(
        run_dir=run_dir, exchange="synthetic", pair=PAIR, timeframe="1h", lake_root=lake_root,
        session=f"bench-{repeat}", echo=lambda line: None, clock=lambda: newest + 3_600_000,
    )  # fmt: skip
    session = PaperSession(runtime, request, trust_model=True)
    session.follow(lambda: False, limit=1)  # the newest stored candle: the first decision (numba, torch warm)
    total, engine = [], []
    try:
        for i in range(first, first + candles):
            lake.write("synthetic", PAIR, "1h", frame.slice(i, 1), "stream")  # as `data stream` appends it
            stored = time.perf_counter()
            assert session._poll()
            polled = time.perf_counter()
            session.process(session.consumed, polled)
            total.append((time.perf_counter() - stored) * 1000)
            engine.append(session.latencies[-1])
    finally:
        session.close("bench")
    return total, engine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--candles", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--run", type=Path, default=None, help="an existing quickstart run folder")
    args = parser.parse_args()

    from tradecore.runtime import Runtime

    runtime = Runtime()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        run_dir, manifest = quickstart_run(root, runtime, args.run)
        p50s, p99s, engine99s = [], [], []
        for repeat in range(args.repeats):
            total, engine = one_session(root, runtime, run_dir, manifest, args.candles, repeat)
            p50, p99 = np.percentile(total, [50, 99])
            p50s.append(p50)
            p99s.append(p99)
            engine99s.append(float(np.percentile(engine, 99)))
    print(f"paper_latency_p50_ms {statistics.median(p50s):.2f}")
    print(f"paper_latency_p99_ms {statistics.median(p99s):.2f}")
    print(f"paper_engine_p99_ms {statistics.median(engine99s):.2f}")
    print("budget_p99_ms 20")


if __name__ == "__main__":
    main()
