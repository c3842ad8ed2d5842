"""Hand-computed episodes: fills at the next open with slippage, fees, stops, takes, PnL and reward terms."""

from __future__ import annotations

import math

import pytest

from tests.env.helpers import hand_experiment
from tradecore.env import rewards
from tradecore.errors import TradecoreError

LONG = {"direction": 1}
FLAT = {"direction": 0}
SHORT = {"direction": 2}
FEE = SLIP = 0.001  # 10 bps each


def test_long_fills_at_next_open_with_slippage_and_fee_then_marks_at_close():
    exp = hand_experiment([(100, 101, 99, 100), (102, 106, 101, 105), (105, 108, 104, 107), (107, 108, 100, 101)])
    env = exp.make_env()
    obs, info = env.reset(seed=0)
    assert info["price"] == 100 and obs["market"].tolist() == [[0.0]]
    _, reward, term, trunc, info = env.step(LONG)
    px = 102 * (1 + SLIP)  # order from bar 0 fills at bar 1's open, paying slippage
    qty = 1000 / 102  # target exposure 1.0 x equity at the open, in units at the open price
    fee = qty * px * FEE
    cash = 1000 - qty * px - fee
    equity = cash + qty * 105
    assert info["fee"] == pytest.approx(fee, rel=1e-12)
    assert info["slippage"] == pytest.approx(qty * 102 * SLIP, rel=1e-12)
    assert info["equity"] == pytest.approx(equity, rel=1e-12)
    assert reward == pytest.approx(math.log(equity / 1000), rel=1e-12)
    assert info["opened"] and info["trade"] and not info["closed"]
    assert info["reward_terms"] == {"pnl": reward}
    assert not term and not trunc
    # holding: no trade, exposure drifts with price
    _, reward, _, trunc, info = env.step(LONG)
    assert not info["trade"] and info["fee"] == 0.0
    assert info["equity"] == pytest.approx(cash + qty * 107, rel=1e-12)
    assert reward == pytest.approx(math.log((cash + qty * 107) / equity), rel=1e-12)
    # going flat sells at bar 3's open minus slippage; the split has no bar after 3: truncated
    _, _, term, trunc, info = env.step(FLAT)
    sell = 107 * (1 - SLIP)
    final = cash + qty * sell - qty * sell * FEE
    assert info["equity"] == pytest.approx(final, rel=1e-12)
    assert info["closed"] and info["position"] == 0.0
    assert trunc and not term


def test_stop_loss_exits_at_the_level_and_both_touched_means_stop_first():
    # bar 2 touches both the stop (98.9) and the take (104) of a long entered at 100.1 -> stop wins
    ohlc = [(100, 100, 100, 100), (100, 100.5, 99.5, 100), (100, 106, 97, 103), (103, 103, 103, 103)]
    exp = hand_experiment(
        ohlc,
        slippage_bps=0.0,
        fee_bps=0.0,
        actions={"direction": True, "stop_loss_pct": [0.01, 0.02], "take_profit_pct": [0.04]},
    )
    env = exp.make_env()
    env.reset(seed=0)
    _, _, _, _, info = env.step({"direction": 1, "stop_loss": 0})
    assert not info["stop_hit"] and info["equity"] == pytest.approx(1000.0)
    _, reward, _, _, info = env.step({"direction": 1, "stop_loss": 1})  # stop bucket locked while holding
    assert info["stop_hit"] and not info["take_hit"] and info["closed"]
    assert info["equity"] == pytest.approx(1000 * 99 / 100, rel=1e-12)  # exit at stop 100 * (1 - 0.01)
    assert reward == pytest.approx(math.log(0.99), rel=1e-12)
    assert info["position"] == 0.0


def test_take_profit_and_gap_through_stop_fills_at_open():
    ohlc = [(100, 100, 100, 100), (100, 105, 99.5, 104), (95, 96, 94, 95), (95, 95, 95, 95)]
    exp = hand_experiment(
        ohlc,
        slippage_bps=0.0,
        fee_bps=0.0,
        actions={"direction": True, "stop_loss_pct": [0.02], "take_profit_pct": [0.03]},
    )
    env = exp.make_env()
    env.reset(seed=0)
    _, _, _, _, info = env.step({"direction": 1})
    assert info["take_hit"] and info["equity"] == pytest.approx(1030.0, rel=1e-12)
    # the same action re-enters after the exit: long at bar 2's open (95); 94 is above the stop (93.1)
    _, _, _, trunc, info = env.step({"direction": 1})
    assert info["opened"] and not info["stop_hit"] and not trunc
    assert info["equity"] == pytest.approx(1030.0, rel=1e-12)
    # a short whose stop is gapped through pays the open, not the level
    ohlc = [(100, 100, 100, 100), (100, 100, 99, 100), (110, 111, 109, 110), (110, 110, 110, 110)]
    exp = hand_experiment(ohlc, slippage_bps=0.0, fee_bps=0.0, actions={"direction": True, "stop_loss_pct": [0.02]})
    env = exp.make_env()
    env.reset(seed=0)
    _, _, _, _, info = env.step(SHORT)
    assert info["position"] == pytest.approx(-1.0) and not info["stop_hit"]
    _, _, _, _, info = env.step(SHORT)
    assert info["stop_hit"]
    qty = -1000 / 100
    assert info["equity"] == pytest.approx(1000 - 1000 + 1000 + qty * (110 - 100), rel=1e-12)  # 900: bought back at 110


def test_each_reward_term_by_hand():
    ohlc = [(100, 100, 100, 100), (100, 101, 99, 100), (100, 100, 90, 90)]
    terms = [
        ("pnl", 1.0, rewards.PnL),
        ("simple", 2.0, lambda: rewards.PnL(type("P", (), {"mode": "simple"}))),
        ("fee_cost", 1.0, rewards.FeeCost),
        ("drawdown", 0.5, rewards.DrawdownPenalty),
        ("exposure", 0.1, rewards.ExposurePenalty),
        ("turnover", 0.1, rewards.TurnoverPenalty),
        ("dsr", 1.0, rewards.DifferentialSharpe),
        ("terminal", 1.0, rewards.TerminalReward),
    ]
    exp = hand_experiment(ohlc, terms=terms, actions={"direction": True, "size_buckets": [0.5, 1.0]})
    env = exp.make_env()
    env.reset(seed=0)
    _, r1, _, _, i1 = env.step({"direction": 1, "size": 0})  # half size long at 100
    px = 100 * (1 + SLIP)
    qty = 0.5 * 1000 / 100
    fee = qty * px * FEE
    slip = qty * 100 * SLIP
    e1 = 1000 - qty * px - fee + qty * 100
    ret1 = e1 / 1000 - 1
    t = i1["reward_terms"]
    assert t["pnl"] == pytest.approx(math.log(e1 / 1000), rel=1e-12)
    assert t["simple"] == pytest.approx(2 * ret1, rel=1e-12)
    assert t["fee_cost"] == pytest.approx(-(fee + slip) / 1000, rel=1e-12)
    assert t["drawdown"] == pytest.approx(-0.5 * (1 - e1 / 1000), rel=1e-12)  # peak stays 1000
    assert t["exposure"] == pytest.approx(-0.1 * 0.5, rel=1e-12)
    assert t["turnover"] == pytest.approx(-0.1 * qty * 100 / 1000, rel=1e-12)
    assert t["dsr"] == 0.0  # no variance estimate yet
    assert t["terminal"] == 0.0
    assert r1 == pytest.approx(sum(t.values()), rel=1e-12)
    # DSR after the first step: A = eta * R1, B = eta * R1^2
    _, _, _, trunc, i2 = env.step({"direction": 1, "size": 0})
    e2 = e1 - qty * 10
    ret2 = e2 / e1 - 1
    eta = 0.01
    a, b = eta * ret1, eta * ret1 * ret1
    dsr = (b * (ret2 - a) - 0.5 * a * (ret2 * ret2 - b)) / (b - a * a) ** 1.5
    t = i2["reward_terms"]
    assert t["dsr"] == pytest.approx(dsr, rel=1e-9)
    assert t["drawdown"] == pytest.approx(-0.5 * ((1 - e2 / 1000) - (1 - e1 / 1000)), rel=1e-9)
    assert t["exposure"] == pytest.approx(-0.1 * qty * 100 / (1000 - qty * px - fee + qty * 100), rel=1e-12)
    assert trunc  # bar 1 -> bar 2 is the last step of this 3-bar split
    assert t["terminal"] == pytest.approx(math.log(e2 / 1000), rel=1e-12)


def test_resize_trades_the_difference_and_flip_reopens():
    ohlc = [(100, 100, 100, 100)] * 5
    exp = hand_experiment(
        ohlc, slippage_bps=0.0, fee_bps=0.0, leverage=2.0, actions={"direction": True, "size_buckets": [0.5, 1.0]}
    )
    env = exp.make_env()
    env.reset(seed=0)
    _, _, _, _, info = env.step({"direction": 1, "size": 0})
    assert info["position"] == pytest.approx(1.0)  # 0.5 x leverage 2
    _, _, _, _, info = env.step({"direction": 1, "size": 1})
    assert info["position"] == pytest.approx(2.0) and info["trade"] and not info["opened"]
    _, _, _, _, info = env.step({"direction": 2, "size": 1})
    assert info["position"] == pytest.approx(-2.0) and info["opened"] and info["closed"]


def test_ruin_terminates_and_drawdown_stop_terminates():
    ohlc = [(100, 100, 100, 100), (100, 100, 100, 100), (100, 100, 40, 40), (40, 40, 40, 40)]
    exp = hand_experiment(ohlc, slippage_bps=0.0, fee_bps=0.0, leverage=2.0)
    env = exp.make_env()
    env.reset(seed=0)
    env.step(LONG)
    _, reward, term, trunc, info = env.step(LONG)
    assert term and not trunc and info["equity"] < 0  # 2x long through a 60% drop
    assert math.isfinite(reward)
    with pytest.raises(TradecoreError, match="episode is over: call reset"):  # not a division by zero equity
        env.step(LONG)
    exp = hand_experiment(ohlc, slippage_bps=0.0, fee_bps=0.0, max_drawdown=0.5)
    env = exp.make_env()
    env.reset(seed=0)
    env.step(LONG)
    _, _, term, trunc, info = env.step(LONG)
    assert term and not trunc and info["equity"] == pytest.approx(400.0)
