"""CLI start-up time: median wall time of fresh ``tradecore`` processes.

Prints ``tradecore_help_s``, ``tradecore_plugins_s`` and ``validate_s`` (the quickstart manifest), plus
``python_startup_s`` (a bare interpreter, the floor) for scale. Budgets on the 2-core machine with
every built-in plugin installed: --help <= 0.25 s, plugins <= 0.5 s, validate <= 0.6 s.

    python bench/cli_startup.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def tradecore_command() -> list[str]:
    # the console script itself, not a version manager's shell shim in front of it
    script = Path(sys.executable).parent / "tradecore"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tradecore"]


def median_wall(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, cwd=REPO)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    cmd = tradecore_command()
    figures = {
        "python_startup_s": [sys.executable, "-c", "pass"],
        "tradecore_help_s": [*cmd, "--help"],
        "tradecore_plugins_s": [*cmd, "plugins"],
        "validate_s": [*cmd, "validate", str(REPO / "examples" / "quickstart.json")],
    }
    for command in figures.values():  # warm the page cache and bytecode
        subprocess.run(command, capture_output=True, check=False, cwd=REPO)
    for name, command in figures.items():
        print(f"{name} {median_wall(command, args.repeats):.4f}", flush=True)


if __name__ == "__main__":
    main()
