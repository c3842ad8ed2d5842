"""TradingEnv: one instrument, bar by bar, with next-open fills, fees, slippage, stops and reward terms.

Execution semantics (bars are ``i`` with open ``O``, high ``H``, low ``L``, close ``C``):

1. The observation at step ``t`` uses bars ``<= t`` only: the feature rows ``t-window+1 .. t`` and the
   account state marked at ``C[t]``.
2. The action chosen at ``t`` sets a target exposure (fraction of equity, signed; size x leverage).
   When it differs from the target in force, an order fills at the next bar's open ``O[t+1]``: buys
   at ``O * (1 + slippage)``, sells at ``O * (1 - slippage)``, for ``target * equity_at_open / O``
   units. Fees (``fee_bps`` per side) are charged on the filled notional. An unchanged target trades
   nothing (the position is held in units and its exposure drifts with price).
3. Stop-loss and take-profit levels sit at the chosen distance from the entry's fill price. They are
   checked against bar ``t+1``'s low and high (a position opened at ``O[t+1]`` is checked in the same
   bar). A long stops when ``L <= stop`` and exits at ``min(stop, O)`` (a gap through the stop fills
   at the open); it takes profit when ``H >= take`` at ``max(take, O)``; shorts mirror this. **When a
   bar touches both, the stop is assumed to have hit first (worst case).** Exits pay slippage and fees
   like any fill. After an exit the target in force is flat, so repeating the same action re-enters.
4. Equity is marked at ``C[t+1]``; the step's reward is the weighted sum of the reward terms over the
   step outcome (:mod:`tradecore.env.rewards`), so fees and slippage are inside the reward.
5. ``terminated`` only on ruin (equity <= 0) or when drawdown reaches ``max_drawdown``; ``truncated``
   at ``episode_steps`` or when no next bar is left in the split.

Episodes start at the first bar with a full window, or (``random_start``) at a bar drawn from
``self.np_random`` so that a whole episode fits; ``reset(seed=...)`` fully determines the episode and
``reset(options={"start": i})`` forces the first observation bar (split-relative). Step and reset are
O(1) in the data length: prices are read through memoryviews, features through a slice copy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from tradecore.config.env import EnvConfig
from tradecore.env.actions import ActionLayout
from tradecore.env.market import MarketData
from tradecore.env.rewards import StepOutcome, fuse_scalar_terms
from tradecore.errors import TradecoreError

INF = math.inf
ACCOUNT_FIELDS = (
    "position",
    "entry_pnl",
    "log_equity",
    "drawdown",
    "log_bars_in_position",
    "stop_distance",
    "take_distance",
)
_LOG_FLOOR = math.log(1e-12)
_log, _log1p, _array, _F32 = math.log, math.log1p, np.array, np.float32  # module globals: one lookup each
_UNSET: Any = object()


class TradingEnv(gym.Env):
    """The single trading env. Build it through :func:`tradecore.env.experiment.build_experiment`."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(
        self,
        market: MarketData,
        config: EnvConfig,
        terms: Sequence[tuple[str, float, Any]],
        *,
        split: range | None = None,
        split_name: str = "data",
        random_start: bool | None = None,
        episode_steps: int | None = _UNSET,
        record: bool = False,
        render_mode: str | None = None,
    ) -> None:
        super().__init__()
        split = split if split is not None else range(len(market))
        self.config = config
        self.market = market
        self.split = split
        self.split_name = split_name
        self.layout = ActionLayout.from_config(config)
        self.window = config.window
        n = len(split)
        if n < self.window + 1:
            raise TradecoreError(
                f"env.window: {split_name} split has {n} bars but a window of {self.window} needs at least "
                f"{self.window + 1}; lower env.window or use more data"
            )
        self._n = n
        sl = slice(split.start, split.stop)
        self._feats = market.features[sl]
        self._nf = self._feats.shape[1]
        self._feats_flat = self._feats.reshape(-1)
        self._o, self._h = memoryview(market.open[sl]), memoryview(market.high[sl])
        self._l, self._c = memoryview(market.low[sl]), memoryview(market.close[sl])
        self._time = memoryview(market.time[sl])
        self._fee = config.fee_bps * 1e-4
        self._slip = config.slippage_bps * 1e-4
        self._e0 = float(config.initial_equity)
        self._max_dd = config.max_drawdown or INF
        self._terms = [(str(name), float(w), term) for name, w, term in terms]
        self._outcome = StepOutcome()
        self._fused = fuse_scalar_terms(self._terms, self._e0, self._outcome)
        self._bar0 = split.start
        self._w1 = self.window - 1
        self.random_start = config.random_start if random_start is None else bool(random_start)
        self.episode_steps = config.episode_steps if episode_steps is _UNSET else episode_steps
        self._min_start = self.window - 1
        longest = n - 1 - self._min_start
        length = self.episode_steps if self.episode_steps is not None else longest
        self._max_start = max(self._min_start, n - 1 - length)
        self._limit = self.episode_steps if self.episode_steps is not None else n  # steps before truncation
        # action decoding tables
        lay = self.layout
        self._continuous = lay.continuous
        self._dir_tab, self._size_tab = lay.direction, lay.size
        self._sl_tab, self._tp_tab = lay.stop_loss, lay.take_profit
        self._has = {h: h in lay.heads for h in ("direction", "size", "stop_loss", "take_profit")}
        self._all_heads = not lay.continuous and all(self._has.values())
        self.action_space = lay.action_space()
        self._flat = config.observation == "flat"
        market_shape = (self.window, self._nf)
        if self._flat:
            self._wf = self.window * self._nf
            self.observation_space = spaces.Box(-np.inf, np.inf, (self._wf + len(ACCOUNT_FIELDS),), np.float32)
        else:
            self.observation_space = spaces.Dict(
                {
                    "market": spaces.Box(-np.inf, np.inf, market_shape, np.float32),
                    "account": spaces.Box(-np.inf, np.inf, (len(ACCOUNT_FIELDS),), np.float32),
                }
            )
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise TradecoreError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.render_mode = render_mode
        self.record = bool(record or render_mode is not None)
        if self.record:
            size = min(self._limit, longest) + 1
            self._rec = {k: np.zeros(size) for k in ("equity", "position", "price", "fee", "slippage", "reward")}
            self._rec.update({k: np.zeros(size, dtype=np.int64) for k in ("bar", "time")})
            self._rec.update({k: np.zeros(size, dtype=bool) for k in ("opened", "closed", "stop_hit", "take_hit")})
        self._set_flat_state(self._min_start)

    # -- state ------------------------------------------------------------------------------------
    def _set_flat_state(self, start: int) -> None:
        self._t = start
        self._start = start
        self._end_t = min(start + self._limit, self._n - 1)  # truncate on reaching this bar
        self._qty = 0.0
        self._cash = self._e0
        self._equity = self._e0
        self._peak = self._e0
        self._dd = 0.0
        self._target = 0.0
        self._entry = 0.0
        self._stop, self._take = -INF, INF
        self._sd = self._td = 0.0
        self._sl_idx = self._tp_idx = 0
        self._bars = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if options and options.get("start") is not None:
            start = int(options["start"])
            if not self._min_start <= start <= self._n - 2:
                raise TradecoreError(f"reset options.start must be in [{self._min_start}, {self._n - 2}], got {start}")
        elif self.random_start and self._max_start > self._min_start:
            start = self._min_start + int(self.np_random.integers(0, self._max_start - self._min_start + 1))
        else:
            start = self._min_start
        self._set_flat_state(start)
        for _, _, term in self._terms:
            term.reset()
        if self.record:
            self._record(0, 0.0, 0.0, 0.0, False, False, False, False)
        c = self._c[start]
        return self._observation(start, c, self._e0), {
            "equity": self._e0,
            "price": c,
            "bar": self.split.start + start,
            "time": self._time[start],
        }

    # -- stepping ---------------------------------------------------------------------------------
    def step(self, action):
        if self._all_heads:  # the full discrete configuration: no per-head checks
            si = int(action["stop_loss"])
            ti = int(action["take_profit"])
            return self._advance(
                self._dir_tab[int(action["direction"])] * self._size_tab[int(action["size"])],
                si,
                ti,
                self._sl_tab[si],
                self._tp_tab[ti],
            )
        if self._continuous:
            return self._advance(*self.layout.decode_continuous(action))
        has = self._has
        d = self._dir_tab[int(action["direction"])] if has["direction"] else self._dir_tab[0]
        size = self._size_tab[int(action["size"])] if has["size"] else self._size_tab[0]
        si = int(action["stop_loss"]) if has["stop_loss"] else 0
        ti = int(action["take_profit"]) if has["take_profit"] else 0
        sl, tp = self._sl_tab, self._tp_tab
        return self._advance(d * size, si, ti, sl[si] if sl else 0.0, tp[ti] if tp else 0.0)

    def step_indices(self, indices: Sequence[int]):
        """Step with the enabled heads' indices in head order (the MultiDiscrete fast path)."""
        if self._all_heads:
            d, size, si, ti = indices
            return self._advance(self._dir_tab[d] * self._size_tab[size], si, ti, self._sl_tab[si], self._tp_tab[ti])
        it = iter(indices)
        has = self._has
        d = self._dir_tab[next(it)] if has["direction"] else self._dir_tab[0]
        size = self._size_tab[next(it)] if has["size"] else self._size_tab[0]
        si = next(it) if has["stop_loss"] else 0
        ti = next(it) if has["take_profit"] else 0
        sl, tp = self._sl_tab, self._tp_tab
        return self._advance(d * size, si, ti, sl[si] if sl else 0.0, tp[ti] if tp else 0.0)

    def _advance(self, target: float, si: int, ti: int, sd: float, td: float):
        # Hot path: state is read into locals once and written back once; the reward terms run as one
        # generated function (rewards.fuse_scalar_terms); the observation is built inline.
        t = self._t + 1
        o = self._o[t]
        qty = self._qty
        cash = self._cash
        e_prev = self._equity
        fee = slip = traded = 0.0
        opened = closed = False
        eq_open = cash + qty * o
        if target != self._target:
            self._target = target
            desired = target * eq_open / o if eq_open > 0.0 else 0.0
            dq = desired - qty
            if dq != 0.0:
                s = self._slip
                px = o * (1.0 + s) if dq > 0.0 else o * (1.0 - s)
                adq = dq if dq > 0.0 else -dq
                traded = adq * o
                slip = traded * s
                fee = adq * px * self._fee
                cash -= dq * px + fee
                if qty == 0.0:  # opening from flat: the stop/take distances are chosen now and locked
                    opened = True
                    self._sl_idx, self._tp_idx, self._sd, self._td = si, ti, sd, td
                elif desired == 0.0 or (desired > 0.0) != (qty > 0.0):
                    closed = True
                    opened = desired != 0.0
                if desired != 0.0:
                    if opened:
                        self._bars = 0
                    sd, td = self._sd, self._td
                    if desired > 0.0:
                        self._stop = px * (1.0 - sd) if sd else -INF
                        self._take = px * (1.0 + td) if td else INF
                    else:
                        self._stop = px * (1.0 + sd) if sd else INF
                        self._take = px * (1.0 - td) if td else -INF
                    self._entry = px
                qty = desired
        if eq_open > 0.0:
            exposure = (qty * o if qty >= 0.0 else -qty * o) / eq_open
        else:
            exposure = 0.0
        stop_hit = take_hit = False
        if qty != 0.0:
            h = self._h[t]
            low = self._l[t]
            stop = self._stop
            take = self._take
            exit_px = 0.0
            if qty > 0.0:
                if low <= stop:
                    stop_hit = True
                    exit_px = stop if stop < o else o
                elif h >= take:
                    take_hit = True
                    exit_px = take if take > o else o
            else:
                if h >= stop:
                    stop_hit = True
                    exit_px = stop if stop > o else o
                elif low <= take:
                    take_hit = True
                    exit_px = take if take < o else o
            if stop_hit or take_hit:
                s = self._slip
                aq = qty if qty > 0.0 else -qty
                px = exit_px * (1.0 - s) if qty > 0.0 else exit_px * (1.0 + s)
                notional = aq * exit_px
                traded += notional
                slip += notional * s
                exit_fee = aq * px * self._fee
                fee += exit_fee
                cash += qty * px - exit_fee
                qty = 0.0
                closed = True
                self._target = 0.0
        c = self._c[t]
        equity = cash + qty * c
        self._qty = qty
        self._cash = cash
        self._equity = equity
        bars = self._bars + 1 if qty != 0.0 else 0
        self._bars = bars
        peak = self._peak
        if equity > peak:
            self._peak = peak = equity
        dd = 1.0 - equity / peak
        dd_prev = self._dd
        self._dd = dd
        self._t = t
        terminated = equity <= 0.0 or dd >= self._max_dd
        truncated = not terminated and t >= self._end_t
        reward, shares = self._fused(equity, e_prev, fee, slip, traded, exposure, dd_prev, dd, terminated or truncated)
        if reward - reward != 0.0:
            self._bad_reward(shares)
        position = qty * c / equity if equity > 0.0 else 0.0
        if self.record:
            self._record(t - self._start, reward, fee, slip, opened, closed, stop_hit, take_hit)
        info = {
            "equity": equity,
            "position": position,
            "price": c,
            "fee": fee,
            "slippage": slip,
            "trade": traded > 0.0,
            "opened": opened,
            "closed": closed,
            "stop_hit": stop_hit,
            "take_hit": take_hit,
            "reward_terms": shares,
            "bar": self._bar0 + t,
        }
        # the observation, as _observation() builds it (inlined: one call less per step)
        if qty != 0.0:
            pos = position
            entry = self._entry
            upnl = c / entry - 1.0 if qty > 0.0 else 1.0 - c / entry
            stop, take = self._stop, self._take
            sdist = stop / c - 1.0 if -INF < stop < INF else 0.0
            tdist = take / c - 1.0 if -INF < take < INF else 0.0
        else:
            pos = upnl = sdist = tdist = 0.0
        ratio = equity / self._e0
        account = (pos, upnl, _log(ratio) if ratio > 1e-12 else _LOG_FLOOR, dd, _log1p(bars), sdist, tdist)
        if self._flat:
            return self._flat_observation(t, account), reward, terminated, truncated, info
        w1 = self._w1
        obs = {"market": self._feats[t - w1 : t + 1].copy(), "account": _array(account, _F32)}
        return obs, reward, terminated, truncated, info

    def _bad_reward(self, shares: dict[str, float]) -> None:
        bad = [name for name, value in shares.items() if not math.isfinite(value)]
        raise TradecoreError(f"reward term {bad[0]!r} returned a non-finite value; check its params and weight")

    # -- observation ------------------------------------------------------------------------------
    def _observation(self, t: int, c: float, equity: float):
        qty = self._qty
        if qty != 0.0:
            pos = qty * c / equity if equity > 0.0 else 0.0
            entry = self._entry
            upnl = c / entry - 1.0 if qty > 0.0 else 1.0 - c / entry
            stop, take = self._stop, self._take
            sdist = stop / c - 1.0 if -INF < stop < INF else 0.0
            tdist = take / c - 1.0 if -INF < take < INF else 0.0
        else:
            pos = upnl = sdist = tdist = 0.0
        ratio = equity / self._e0
        logeq = math.log(ratio) if ratio > 1e-12 else _LOG_FLOOR
        account = (pos, upnl, logeq, self._dd, math.log1p(self._bars), sdist, tdist)
        if self._flat:
            return self._flat_observation(t, account)
        return {"market": self._feats[t - self._w1 : t + 1].copy(), "account": np.array(account, np.float32)}

    def _flat_observation(self, t: int, account: tuple[float, ...]) -> np.ndarray:
        nf = self._nf
        obs = np.empty(self._wf + 7, np.float32)
        obs[: self._wf] = self._feats_flat[(t + 1 - self.window) * nf : (t + 1) * nf]
        obs[self._wf :] = account
        return obs

    # -- masks, records, rendering ----------------------------------------------------------------
    def action_mask_heads(self) -> list[np.ndarray]:
        """One boolean mask per enabled head: stop/take heads are locked while a position is open."""
        masks = []
        for head in self.layout.heads:
            mask = np.ones(len(self.layout.table(head)), dtype=bool)
            if self._qty != 0.0 and head in ("stop_loss", "take_profit"):
                mask[:] = False
                mask[self._sl_idx if head == "stop_loss" else self._tp_idx] = True
            masks.append(mask)
        return masks

    def action_masks(self) -> np.ndarray:
        """The enabled heads' masks concatenated (MaskablePPO's MultiDiscrete format)."""
        return np.concatenate(self.action_mask_heads())

    def _record(
        self, k: int, reward: float, fee: float, slip: float, opened: bool, closed: bool, stop_hit: bool, take_hit: bool
    ) -> None:
        rec, t = self._rec, self._t
        c = self._c[t]
        rec["bar"][k] = self.split.start + t
        rec["time"][k] = self._time[t]
        rec["equity"][k] = self._equity
        rec["position"][k] = self._qty * c / self._equity if self._equity > 0.0 else 0.0
        rec["price"][k] = c
        rec["fee"][k] = fee
        rec["slippage"][k] = slip
        rec["reward"][k] = reward
        rec["opened"][k] = opened
        rec["closed"][k] = closed
        rec["stop_hit"][k] = stop_hit
        rec["take_hit"][k] = take_hit

    def episode_record(self) -> dict[str, np.ndarray]:
        """Copies of the recorded arrays for the episode so far (row 0 = the reset); needs ``record=True``."""
        if not self.record:
            raise TradecoreError("episode_record() needs the env built with record=True")
        return {k: v[: self._t - self._start + 1].copy() for k, v in self._rec.items()}

    def render(self):
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; build the env with render_mode='rgb_array'")
            return None
        from tradecore.env.render import episode_figure_rgb

        return episode_figure_rgb(self.episode_record(), title=f"{self.split_name} episode")
