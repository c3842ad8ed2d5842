"""Learning quality across seeds: the quickstart with the ``sb3`` trainer and with ``ppo-fast``, same data and env.

    python bench/seeds.py [--seeds 5] [--manifests examples/quickstart.json examples/quickstart-fast.json]

Runs each manifest once per seed (1..N) through the real pipeline (needs the tradecore-sb3 and
tradecore-ppo plugins installed) and prints, per manifest, ``name value`` lines for the test-split
return and Sharpe (mean, min, max), the mean training seconds, then one line per run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from tradecore.api import Runtime

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--manifests", nargs="+", default=["examples/quickstart.json", "examples/quickstart-fast.json"])
    args = parser.parse_args()
    runtime = Runtime()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.manifests:
            manifest = json.loads((ROOT / path).read_text())
            label = manifest["trainer"]["type"]
            results = []
            for seed in range(1, args.seeds + 1):
                manifest["seed"] = seed
                outcome = runtime.run(manifest, runs_root=Path(tmp), echo=lambda line: None)
                agent = outcome.metrics["agent"]
                record = json.loads((outcome.run_dir / "run.json").read_text())
                train_s = next(s["seconds"] for s in record["stages"] if s["stage"] == "train")
                results.append((seed, agent["total_return"], agent["sharpe"], train_s))
                rows.append(
                    f"run {label} seed={seed} test_return={agent['total_return']:+.4f} "
                    f"sharpe={agent['sharpe']:.3f} train_s={train_s:.1f}"
                )
                print(rows[-1], flush=True)
            for name, column in (("test_return", 1), ("sharpe", 2)):
                values = [r[column] for r in results]
                print(f"{label}_{name}_mean {statistics.fmean(values):.4f}")
                print(f"{label}_{name}_min {min(values):.4f}")
                print(f"{label}_{name}_max {max(values):.4f}")
            print(f"{label}_train_s_mean {statistics.fmean(r[3] for r in results):.2f}", flush=True)


if __name__ == "__main__":
    main()
