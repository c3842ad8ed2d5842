"""Evaluation speed: a trained PPO policy and every baseline over 1M test bars; report generation time.

    python bench/evaluate.py [--bars 1000000] [--keep DIR] [--report-repeats 3]

Prints ``name value`` lines: eval_agent_1m_s (agent only), eval_all_1m_s (agent + 8 baselines +
metrics), report_s (first report in the process: matplotlib import and font setup included, as for
``tradecore report RUN``), report_warm_s (median of the repeats). ``--keep DIR`` keeps the run folder
(e.g. to time another report implementation on the same rollouts).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="keep the run folder here")
    parser.add_argument("--report-repeats", type=int, default=3)
    args = parser.parse_args()

    from tradecore.env.experiment import build_experiment
    from tradecore.interfaces import Candles, RunContext
    from tradecore.runs.compare import judge, run_policies, save_rollouts
    from tradecore.runs.evaluate import rollout
    from tradecore.runs.folder import METRICS_FILE, write_json
    from tradecore.runs.report import render_report
    from tradecore.runtime import Runtime

    manifest = json.loads((ROOT / "examples" / "quickstart.json").read_text())
    total = int(args.bars / 0.9) + 2000
    manifest["source"]["params"]["bars"] = total
    manifest["split"] = {"train": 0.05, "validation": 0.05, "test": 0.9}
    manifest["trainer"]["params"].update(total_timesteps=4096, eval_freq=0, checkpoint_freq=0, tensorboard=False)
    resolved = Runtime().resolve(manifest)
    ctx = RunContext(lake_root=ROOT, seed=7)
    candles = Candles.from_frame(resolved.source.build().load(ctx), "1h")
    experiment = build_experiment(resolved, candles, ctx)
    trainer = resolved.trainer.build()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = args.keep or Path(tmp)
        run_dir.mkdir(parents=True, exist_ok=True)
        ctx.run_dir = run_dir
        trainer.train(experiment, ctx)
        policy = trainer.load_policy(run_dir, experiment)
        bars = len(experiment.splits["test"])
        started = time.perf_counter()
        rollout(experiment, "test", policy)
        agent_s = time.perf_counter() - started
        started = time.perf_counter()
        rollouts = run_policies(experiment, "test", policy)
        metrics = judge(rollouts, experiment.timeframe, split="test")
        all_s = time.perf_counter() - started
        save_rollouts(rollouts, run_dir / "evaluation" / "test.npz")
        write_json(run_dir / METRICS_FILE, metrics)
        started = time.perf_counter()
        render_report(run_dir, "test")
        report_s = time.perf_counter() - started
        warm = []
        for _ in range(args.report_repeats):
            started = time.perf_counter()
            render_report(run_dir, "test")
            warm.append(time.perf_counter() - started)
    scale = 1_000_000 / bars
    print(f"eval_test_bars {bars}")
    print(f"eval_segments {metrics['segments']}")
    print(f"eval_agent_1m_s {agent_s * scale:.2f}")
    print(f"eval_all_1m_s {all_s * scale:.2f}")
    print(f"report_s {report_s:.2f}")
    if warm:
        print(f"report_warm_s {statistics.median(warm):.2f}")


if __name__ == "__main__":
    main()
