"""Parity: a paper replay of stored candles gives the same observations, actions, fills and equity, bit for bit,
as evaluating the policy in the environment on the same bars (``rollout`` and the env's own steps)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.paper.conftest import PAIR, replay
from tradecore.api import Candles, Lake, build_experiment, read_json, rollout
from tradecore.paper.engine import observation_hash
from tradecore.paper.ledger import read_lines


class RecordingPolicy:
    """The run's real policy, keeping the actions it returned (what evaluation does not record)."""

    def __init__(self, policy: Any) -> None:
        self.policy = policy
        self.wants_masks = policy.wants_masks
        self.actions: list[list[Any]] = []

    def reset(self, num_envs: int) -> None:
        self.policy.reset(num_envs)

    def act(self, obs: Any, *, masks: Any = None, bars: Any = None) -> np.ndarray:
        actions = self.policy.act(obs, masks=masks, bars=bars)
        self.actions.append(np.asarray(actions)[0].tolist())
        return actions


def evaluate_same_bars(runtime: Any, run_dir: Path, lake: Path, key: tuple[str, str, str], start: int, end: int):
    """Rollout of the run's policy on the lake's candles [start, end), and the env stepped with its actions."""
    resolved = runtime.resolve(read_json(run_dir / "manifest.input.json"))
    candles = Candles.from_frame(Lake(lake).read(*key, start, end), key[2])
    experiment = build_experiment(resolved, candles, whole=True)
    policy = RecordingPolicy(resolved.trainer.build().load_policy(run_dir, experiment))
    evaluated = rollout(experiment, "all", policy)
    env = experiment.make_env("all", random_start=False, episode_steps=None)
    obs, _ = env.reset()
    hashes, infos = [observation_hash(obs)], []
    for action in policy.actions:
        obs, _, terminated, truncated, info = env.step(np.array(action))
        hashes.append(observation_hash(obs))
        infos.append(info)
    assert truncated and not terminated
    return evaluated, policy.actions, hashes[:-1], infos


def assert_ledger_equals_evaluation(folder: Path, runtime: Any, run: dict[str, Any], key: tuple[str, str, str]):
    session = read_json(folder / "session.json")
    equity = read_lines(folder, "equity")
    end = equity[-1]["time"] + 1
    evaluated, actions, hashes, infos = evaluate_same_bars(runtime, run["run_dir"], run["lake"], key,
                                                           session["anchor"], end)  # fmt: skip
    assert equity[0]["bar"] == session["decide_from_bar"]
    # the paper's last decision waits for the next bar; evaluation has no bar to fill it at
    assert [r["action"] for r in equity[:-1]] == actions
    assert [r["observation"] for r in equity] == hashes + [equity[-1]["observation"]]
    paper_equity = np.array([r["equity"] for r in equity])
    assert np.array_equal(paper_equity, evaluated.equity)  # bit for bit
    positions = read_lines(folder, "positions")
    assert np.array_equal(np.array([p["exposure"] for p in positions[1:]]), evaluated.exposure)
    assert np.array_equal(np.array([r["fee"] + r["slippage"] for r in equity[1:]]), evaluated.costs)
    assert [r["fee"] for r in equity[1:]] == [i["fee"] for i in infos]
    assert [r["slippage"] for r in equity[1:]] == [i["slippage"] for i in infos]
    fills = read_lines(folder, "fills")
    for reason, flag in (("stop_loss", "stop_hit"), ("take_profit", "take_hit")):
        assert sorted(f["bar"] for f in fills if f["reason"] == reason) == [
            bar for bar, info in zip(range(equity[1]["bar"], 10**9), infos) if info[flag]
        ]
    traded = sorted({f["bar"] for f in fills})
    assert traded == [bar for bar, info in zip(range(equity[1]["bar"], 10**9), infos) if info["trade"]]
    assert len(fills) > 10 and any(f["reason"] != "order" for f in fills)  # the policy trades and gets stopped
    return equity


def test_replay_equals_evaluation_on_synthetic_candles(paper_run, runtime) -> None:
    times = paper_run["frame"]["time"].dt.epoch("ms").to_numpy()
    folder = replay(paper_run, runtime, int(times[700]), int(times[1100]))
    equity = assert_ledger_equals_evaluation(folder, runtime, paper_run, ("synthetic", PAIR, "1h"))
    assert equity[0]["time"] == int(times[700]) and equity[-1]["time"] == int(times[1099])


@pytest.mark.shared
def test_replay_equals_evaluation_on_a_real_kraken_file(paper_run, runtime, shared_dir, tmp_path) -> None:
    from tests.data.conftest import read_candle_csv

    frame = read_candle_csv(shared_dir / "data/kraken/ohlcvt/full_history_to_2020Q3/XBTUSD_60.csv").tail(900)
    lake = tmp_path / "lake"
    Lake(lake).write("kraken", "BTC/USD", "1h", frame, "dump")
    times = frame["time"].dt.epoch("ms").to_numpy()
    run = {**paper_run, "lake": lake}
    folder = replay(run, runtime, int(times[300]), int(times[-1]) + 1, exchange="kraken", pair="BTC/USD")
    assert_ledger_equals_evaluation(folder, runtime, run, ("kraken", "BTC/USD", "1h"))
