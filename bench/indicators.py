"""Benchmark: tradecore's standard indicator set, as an ``--extra`` module for ../shared/bench/indicators_peers.py.

Side by side with TA-Lib in the same run (the budget is <= 1.5x TA-Lib's full set at 5M rows)::

    python ../shared/bench/indicators_peers.py --n 1000000 5000000 --repeats 5 \\
        --extra bench/indicators.py --libs talib,tradecore

On its own (prints ``name value`` lines: median wall and CPU seconds of the full set, runs interleaved
with TA-Lib's, and the ratios; CPU time is the steadier figure on a shared machine)::

    python bench/indicators.py --n 1000000 5000000 --repeats 15
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from tradecore.features import params as P  # noqa: E402
from tradecore.features import standard as S  # noqa: E402
from tradecore.interfaces import Candles  # noqa: E402

#: the peer script's indicator keys -> (tradecore indicator, {peer output name: our column})
SET = {
    "sma20": (S.SMA(P.MovingAverageParams(period=20)), {"sma20": "sma"}),
    "ema20": (S.EMA(P.EmaParams(period=20)), {"ema20": "ema"}),
    "rsi14": (S.RSI(P.RsiParams(period=14)), {"rsi14": "rsi"}),
    "macd": (S.MACD(P.MacdParams()), {"macd": "macd", "macd_signal": "signal", "macd_hist": "hist"}),
    "atr14": (S.ATR(P.AtrParams(period=14)), {"atr14": "atr"}),
    "bb20": (
        S.BollingerBands(P.BollingerParams(period=20, nbdev=2.0)),
        {"bb_upper": "upper", "bb_middle": "middle", "bb_lower": "lower"},
    ),
    "logret_vol60": (S.Volatility(P.VolatilityParams(period=60, ddof=1)), {"logret_vol60": "volatility"}),
}


def prepare(data: dict[str, np.ndarray]) -> Candles:
    columns = (np.ascontiguousarray(data[k], dtype=np.float64) for k in ("open", "high", "low", "close", "volume"))
    return Candles(np.asarray(data["ts"], dtype=np.int64), *columns)


def _one(key: str):
    indicator, names = SET[key]

    def run(candles: Candles) -> dict[str, np.ndarray]:
        out = indicator.compute(candles)
        return {peer: out[ours] for peer, ours in names.items()}

    return run


def full_set(candles: Candles) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for key in SET:
        out.update(_one(key)(candles))
    return out


def compile_kernels() -> None:
    """JIT (or load from numba's on-disk cache) every kernel once."""
    rng = np.random.default_rng(0)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 1e-3, 500)))
    full_set(Candles(np.arange(500, dtype=np.int64), close, close * 1.001, close * 0.999, close, np.ones(500)))


def builder() -> dict:
    return {"prepare": prepare, "ind": {key: _one(key) for key in SET}, "full": full_set, "compile": compile_kernels}


def register(libs: dict) -> None:
    """The peer script's hook: ``--extra bench/indicators.py --libs talib,tradecore``."""
    libs["tradecore"] = builder


def _interleaved(fns: dict, repeats: int) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds per function, runs interleaved so load changes hit all alike."""
    for fn in fns.values():
        fn()  # warm-up
    wall: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            w, c = time.perf_counter(), time.process_time()
            fn()
            cpu[name].append(time.process_time() - c)
            wall[name].append(time.perf_counter() - w)
    return {k: (statistics.median(wall[k]), statistics.median(cpu[k])) for k in fns}


def _bench_size(n: int, repeats: int, talib) -> None:
    """Print the full-set figures for ``n`` rows."""
    rng = np.random.default_rng(42)
    close = 30_000.0 * np.exp(np.cumsum(rng.normal(0.0, 6e-4, n)))
    open_ = np.r_[30_000.0, close[:-1]]
    high = np.maximum(open_, close) * (1.0 + np.abs(rng.normal(0.0, 3e-4, n)))
    low = np.minimum(open_, close) * (1.0 - np.abs(rng.normal(0.0, 3e-4, n)))
    data = {
        "ts": np.arange(n, dtype=np.int64) * 60_000,
        "open": open_,
        "high": high,
        "low": low,
        "close": close,
        "volume": rng.lognormal(1.0, 1.0, n),
    }
    candles = prepare(data)
    fns = {"tradecore": lambda: full_set(candles)}
    if talib is not None:
        close, high, low = data["close"], data["high"], data["low"]

        def talib_set():
            # as ../shared/bench/indicators_peers.py times it
            logret = np.empty_like(close)
            logret[0] = np.nan
            np.log(close[1:] / close[:-1], out=logret[1:])
            return (
                talib.SMA(close, 20),
                talib.EMA(close, 20),
                talib.RSI(close, 14),
                talib.MACD(close, 12, 26, 9),
                talib.ATR(high, low, close, 14),
                talib.BBANDS(close, 20, 2, 2, 0),
                talib.STDDEV(logret, 60, 1) * np.sqrt(60 / 59),
            )

        fns["talib"] = talib_set
    results = _interleaved(fns, repeats)
    for name, (wall, cpu) in results.items():
        print(f"indicators.n{n}.{name}.full_set {wall:.6f}")
        print(f"indicators.n{n}.{name}.full_set_cpu {cpu:.6f}")
    if "talib" in results:
        print(f"indicators.n{n}.tradecore_over_talib {results['tradecore'][0] / results['talib'][0]:.3f}")
        print(f"indicators.n{n}.tradecore_over_talib_cpu {results['tradecore'][1] / results['talib'][1]:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    start = time.perf_counter()
    compile_kernels()
    print(f"indicators.tradecore.jit_or_cache_load {time.perf_counter() - start:.6f}")
    try:
        import talib
    except ImportError:
        talib = None
    for n in args.n:
        _bench_size(n, args.repeats, talib)


if __name__ == "__main__":
    main()
