"""BatchedTradingEnv: ``num_envs`` trading envs stepped together in one vectorised numpy call.

Same execution semantics as :class:`tradecore.env.trading.TradingEnv` (see its module docstring),
the same arithmetic in the same order, so a sub-env seeded ``seed + i`` and given the same actions
produces the same observations, rewards and flags as a single env reset with ``seed + i`` (up to the
last bit of ``log``, which numpy may round differently from ``math``).

Autoreset: ``AutoresetMode.SAME_STEP``. When a sub-env's episode ends, the observation returned for it
is already the first observation of its next episode (start drawn from that sub-env's own generator,
like ``TradingEnv.reset()`` without a seed); the final observation is in ``infos["final_obs"]`` (an
object array, masked by ``infos["_final_obs"]``). The other info arrays describe the step just taken
for every sub-env, ended or not. This is the convention SB3's ``VecEnv`` uses (``terminal_observation``).

Actions: the batched ``Dict`` (one int array per head), or an ``(num_envs, heads)`` integer array in
head order (the MultiDiscrete flattening); continuous mode takes ``(num_envs, k)`` floats.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.spaces import Box, Dict
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from tradecore.config.env import EnvConfig
from tradecore.env import kernels as K
from tradecore.env import rewards as R
from tradecore.env.actions import ActionLayout
from tradecore.env.market import MarketData
from tradecore.env.rewards import BatchOutcome, StepOutcome
from tradecore.env.trading import ACCOUNT_FIELDS
from tradecore.errors import TradecoreError

_UNSET: Any = object()
_LOG_FLOOR = math.log(1e-12)
INF = np.inf


class _RowTerm:
    """Runs a scalar-only reward term (no ``batch``) row by row with one instance per sub-env."""

    def __init__(self, make_term, n: int) -> None:
        self.terms = [make_term() for _ in range(n)]
        self.outcome = StepOutcome()

    def reset_rows(self, rows: np.ndarray) -> None:
        for i in np.flatnonzero(rows):
            self.terms[i].reset()

    def batch(self, o: BatchOutcome) -> np.ndarray:
        out = np.empty(len(self.terms))
        s = self.outcome
        for i, term in enumerate(self.terms):
            for name in StepOutcome.__slots__:
                value = getattr(o, name)[i]
                setattr(s, name, bool(value) if name == "done" else float(value))
            out[i] = term(s)
        return out


class BatchedTradingEnv(VectorEnv):
    """A numpy-batched vector of trading envs over one split."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(
        self,
        market: MarketData,
        config: EnvConfig,
        terms: Sequence[tuple[str, float, Any]],
        num_envs: int,
        *,
        split: range | None = None,
        split_name: str = "data",
        random_start: bool | None = None,
        episode_steps: int | None = _UNSET,
        seed: int | None = None,
        term_factories: Sequence[Any] | None = None,
    ) -> None:
        if num_envs < 1:
            raise TradecoreError(f"num_envs must be at least 1, got {num_envs}")
        split = split if split is not None else range(len(market))
        self.num_envs = n = int(num_envs)
        self.config = config
        self.split = split
        self.split_name = split_name
        self.layout = lay = ActionLayout.from_config(config)
        self.window = w = config.window
        rows = len(split)
        if rows < w + 1:
            raise TradecoreError(
                f"env.window: {split_name} split has {rows} bars but a window of {w} needs at "
                f"least {w + 1}; lower env.window or use more data"
            )
        self._rows = rows
        sl = slice(split.start, split.stop)
        self._feats = market.features[sl]
        self._o, self._h, self._l, self._c = (getattr(market, k)[sl] for k in ("open", "high", "low", "close"))
        self._time = market.time[sl]
        self._fee = config.fee_bps * 1e-4
        self._slip = config.slippage_bps * 1e-4
        self._e0 = float(config.initial_equity)
        self._max_dd = config.max_drawdown or INF
        self.random_start = config.random_start if random_start is None else bool(random_start)
        self.episode_steps = config.episode_steps if episode_steps is _UNSET else episode_steps
        self._min_start = w - 1
        longest = rows - 1 - self._min_start
        length = self.episode_steps if self.episode_steps is not None else longest
        self._max_start = max(self._min_start, rows - 1 - length)
        self._limit = self.episode_steps if self.episode_steps is not None else rows
        self._terms = []
        for k, (name, weight, term) in enumerate(terms):
            if not hasattr(term, "batch") or not hasattr(term, "reset_batch") or _batch_missing(term):
                if term_factories is None:
                    raise TradecoreError(f"reward term {name!r} has no batch form; pass term_factories")
                term = _RowTerm(term_factories[k], n)
            else:
                term.reset_batch(n)
            self._terms.append((str(name), float(weight), term))
        self._dir_tab = np.array(lay.direction)
        self._size_tab = np.array(lay.size)
        self._sl_tab = np.array(lay.stop_loss or (0.0,))
        self._tp_tab = np.array(lay.take_profit or (0.0,))
        # built-in terms only: the kernel computes them (rewards_batch); otherwise the terms' batch() in Python
        self._fused = _fused_plan(self._terms)
        if self._fused is not None:
            self._term_state = np.zeros((len(self._terms), 2, n))
        self._names = [name for name, _, _ in self._terms]
        # decoded actions (reused: the kernel reads them within the step)
        self._target_buf, self._sd_buf, self._td_buf = np.zeros(n), np.zeros(n), np.zeros(n)
        self._zero_idx = np.zeros(n, dtype=np.int64)
        self._feats_flat = self._feats.reshape(-1)
        self.single_action_space = lay.action_space()
        self.action_space = batch_space(self.single_action_space, n)
        self._flat = config.observation == "flat"
        nf = self._feats.shape[1]
        if self._flat:
            self.single_observation_space = Box(-np.inf, np.inf, (w * nf + len(ACCOUNT_FIELDS),), np.float32)
        else:
            self.single_observation_space = Dict(
                {
                    "market": Box(-np.inf, np.inf, (w, nf), np.float32),
                    "account": Box(-np.inf, np.inf, (len(ACCOUNT_FIELDS),), np.float32),
                }
            )
        self.observation_space = batch_space(self.single_observation_space, n)
        self._rngs = [seeding.np_random(None if seed is None else seed + i)[0] for i in range(n)]
        self._S = np.zeros((K.N_STATE, n))
        self._I = np.zeros((K.N_ISTATE, n), dtype=np.int64)
        self._O = np.zeros((K.N_OUT, n))
        self._F = np.zeros((K.N_FLAGS, n), dtype=bool)
        self._params = np.array([self._slip, self._fee, self._e0, self._max_dd, float(self._limit), float(rows)])
        # named views into the matrices (the kernel updates them in place)
        (
            self._qty,
            self._cash,
            self._equity,
            self._peak,
            self._dd,
            self._target,
            self._entry,
            self._bars,
            self._stop,
            self._take,
            self._sd,
            self._td,
        ) = self._S
        self._t, self._steps, self._sl_idx, self._tp_idx = self._I
        self._outcome = out = BatchOutcome(n)
        for name, row in (
            ("ret", K.O_RET),
            ("log_ret", K.O_LOG_RET),
            ("fee", K.O_FEE),
            ("slippage", K.O_SLIP),
            ("turnover", K.O_TURNOVER),
            ("exposure", K.O_EXPOSURE),
            ("drawdown_prev", K.O_DD_PREV),
            ("drawdown", K.O_DD),
            ("equity", K.O_EQUITY),
        ):
            setattr(out, name, self._O[row])
        out.done = self._F[K.F_DONE]
        self._all_rows = np.arange(n)
        self._initial_state = np.zeros((K.N_STATE, 1))
        self._initial_state[[K.S_CASH, K.S_EQUITY, K.S_PEAK], 0] = self._e0
        self._initial_state[K.S_STOP, 0], self._initial_state[K.S_TAKE, 0] = -INF, INF
        self._reset_rows(np.ones(n, dtype=bool), draw=False)

    # -- resets -----------------------------------------------------------------------------------
    def reset(self, *, seed: int | Sequence[int] | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            seeds = [seed + i for i in range(self.num_envs)] if isinstance(seed, int) else list(seed)
            if len(seeds) != self.num_envs:
                raise TradecoreError(f"reset seed list has {len(seeds)} seeds for {self.num_envs} envs")
            self._rngs = [seeding.np_random(s)[0] for s in seeds]
        rows = np.ones(self.num_envs, dtype=bool)
        starts = None
        if options and options.get("start") is not None:
            starts = np.broadcast_to(np.asarray(options["start"], dtype=np.int64), (self.num_envs,))
            if (starts < self._min_start).any() or (starts > self._rows - 2).any():
                raise TradecoreError(f"reset options.start must be in [{self._min_start}, {self._rows - 2}]")
        self._reset_rows(rows, starts=starts)
        self._reset_terms(rows)
        return self._observation(), {
            "equity": self._equity.copy(),
            "price": self._c[self._t],
            "bar": self.split.start + self._t,
        }

    def _reset_rows(self, rows: np.ndarray, *, draw: bool = True, starts: np.ndarray | None = None) -> None:
        if starts is not None:
            self._t[rows] = starts[rows]
        elif draw and self.random_start and self._max_start > self._min_start:
            span = self._max_start - self._min_start + 1
            for i in np.flatnonzero(rows).tolist():
                self._t[i] = self._min_start + int(self._rngs[i].integers(0, span))
        else:
            self._t[rows] = self._min_start
        idx = np.flatnonzero(rows)
        self._S[:, idx] = self._initial_state
        self._I[1:, idx] = 0

    # -- stepping ---------------------------------------------------------------------------------
    def _decode(self, actions) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        n, lay = self.num_envs, self.layout
        if lay.continuous:
            a = np.asarray(actions, dtype=np.float64).reshape(n, -1)
            a0 = np.clip(a[:, 0], -1.0, 1.0)
            target = a0 * lay.leverage if lay.allow_short else (a0 + 1.0) * 0.5 * lay.leverage
            dists = []
            k = 1
            for head in ("stop_loss", "take_profit"):
                table = lay.table(head)
                if len(table) > 1:
                    u = np.clip(a[:, k], -1.0, 1.0)
                    k += 1
                    lo, hi = min(table), max(table)
                    dists.append(lo + (u + 1.0) * 0.5 * (hi - lo))
                else:
                    dists.append(np.full(n, table[0] if table else 0.0))
            minus = np.full(n, -1, dtype=np.int64)
            return target, minus, minus, dists[0], dists[1]
        if isinstance(actions, dict):
            cols = {h: np.asarray(actions[h], dtype=np.int64).reshape(n) for h in lay.heads}
        else:
            arr = np.asarray(actions, dtype=np.int64).reshape(n, len(lay.heads))
            cols = {h: arr[:, k] for k, h in enumerate(lay.heads)}
        zero = self._zero_idx
        si = cols.get("stop_loss", zero)
        ti = cols.get("take_profit", zero)
        target, sd, td = self._target_buf, self._sd_buf, self._td_buf
        bad = K.decode_discrete(
            cols.get("direction", zero),
            cols.get("size", zero),
            si,
            ti,
            self._dir_tab,
            self._size_tab,
            self._sl_tab,
            self._tp_tab,
            target,
            sd,
            td,
        )
        if bad >= 0:
            head = ("direction", "size", "stop_loss", "take_profit")[bad]
            raise TradecoreError(f"action head {head!r} has an index outside [0, {len(lay.table(head))})")
        return target, si, ti, sd, td

    def step(self, actions):
        target_new, si, ti, sd_new, td_new = self._decode(actions)
        out, n = self._outcome, self.num_envs
        K.step_batch(
            self._o,
            self._h,
            self._l,
            self._c,
            target_new,
            si,
            ti,
            sd_new,
            td_new,
            self._params,
            self._S,
            self._I,
            self._O,
            self._F,
        )
        if self._fused is not None:
            kinds, weights, etas = self._fused
            reward = np.empty(n)
            matrix = np.empty((len(kinds), n))
            bad = K.rewards_batch(kinds, weights, etas, self._term_state, self._O, self._F, matrix, reward)
            shares = {name: matrix[k] for k, name in enumerate(self._names)}
            if bad >= 0:
                self._bad_reward(self._names[bad] if bad < len(kinds) else None)
        else:
            reward = np.zeros(n)
            shares = {}
            for name, weight, term in self._terms:
                value = weight * np.asarray(term.batch(out), dtype=np.float64)
                reward = reward + value
                shares[name] = value
            if not np.isfinite(reward).all():
                bad = [k for k, v in shares.items() if not np.isfinite(v).all()]
                self._bad_reward(bad[0] if bad else None)
        # one copy of each output matrix per step; the info arrays are rows of those copies
        outs, flags = self._O.copy(), self._F.copy()
        infos: dict[str, Any] = {
            "equity": self._equity.copy(),
            "position": outs[K.O_POSITION],
            "price": outs[K.O_PRICE],
            "fee": outs[K.O_FEE_ABS],
            "slippage": outs[K.O_SLIP_ABS],
            "trade": flags[K.F_TRADE],
            "opened": flags[K.F_OPENED],
            "closed": flags[K.F_CLOSED],
            "stop_hit": flags[K.F_STOP],
            "take_hit": flags[K.F_TAKE],
            "reward_terms": shares,
            "bar": self.split.start + self._t,
        }
        done = flags[K.F_DONE]
        terminated, truncated = flags[K.F_TERMINATED], flags[K.F_TRUNCATED]
        if done.any():
            rows = np.flatnonzero(done)
            final = self._observation(rows)
            final_obs = np.full(n, None, dtype=object)
            for j, i in enumerate(rows):
                final_obs[i] = {k: v[j] for k, v in final.items()} if isinstance(final, dict) else final[j]
            infos["final_obs"] = final_obs
            infos["_final_obs"] = done.copy()
            self._reset_rows(done)
            self._reset_terms(done)
        return self._observation(), reward, terminated, truncated, infos

    def _reset_terms(self, rows: np.ndarray) -> None:
        if self._fused is not None:
            self._term_state[:, :, rows] = 0.0
        else:
            for _, _, term in self._terms:
                term.reset_rows(rows)

    def _bad_reward(self, name: str | None) -> None:
        if name is None:
            raise TradecoreError("the weighted reward terms sum to a non-finite value; lower the terms' weights")
        raise TradecoreError(f"reward term {name!r} returned a non-finite value; check its params and weight")

    # -- observation ------------------------------------------------------------------------------
    def _observation(self, rows: np.ndarray | None = None):
        rows = self._all_rows if rows is None else rows
        m, w, nf = len(rows), self.window, self._feats.shape[1]
        if self._flat:
            obs = np.empty((m, w * nf + len(ACCOUNT_FIELDS)), dtype=np.float32)
            market, account = obs[:, : w * nf], obs[:, w * nf :]
        else:
            market3 = np.empty((m, w, nf), dtype=np.float32)
            market, account = market3.reshape(m, w * nf), np.empty((m, len(ACCOUNT_FIELDS)), dtype=np.float32)
        K.observe_batch(self._feats_flat, nf, w, self._c, rows, self._S, self._I, self._e0, market, account)
        return obs if self._flat else {"market": market3, "account": account}

    def action_masks(self) -> np.ndarray:
        """Per sub-env concatenated head masks, shape ``(num_envs, sum(nvec))`` (MaskablePPO format)."""
        lay, n = self.layout, self.num_envs
        held = self._qty != 0.0
        blocks = []
        for head in lay.heads:
            size = len(lay.table(head))
            mask = np.ones((n, size), dtype=bool)
            if head in ("stop_loss", "take_profit"):
                idx = self._sl_idx if head == "stop_loss" else self._tp_idx
                locked = np.zeros((n, size), dtype=bool)
                locked[np.arange(n), idx] = True
                mask = np.where(held[:, None], locked, mask)
            blocks.append(mask)
        return np.concatenate(blocks, axis=1)


def _fused_plan(terms: Sequence[tuple[str, float, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(kinds, weights, etas) for :func:`kernels.rewards_batch` when every term is exactly a built-in class."""
    kinds, etas = [], []
    for _, _, term in terms:
        kind = type(term)
        if kind is R.PnL:
            code = K.R_PNL_LOG if term.log else K.R_PNL_SIMPLE
        elif kind is R.FeeCost:
            code = K.R_FEE_SLIP if term.slippage else K.R_FEE
        elif kind is R.DrawdownPenalty:
            code = K.R_DD_LEVEL if term.level else K.R_DD_INCREASE
        elif kind is R.ExposurePenalty:
            code = K.R_EXPOSURE
        elif kind is R.TurnoverPenalty:
            code = K.R_TURNOVER
        elif kind is R.DifferentialSharpe:
            code = K.R_DSR
        elif kind is R.TerminalReward:
            code = K.R_TERMINAL_LOG if term.log else K.R_TERMINAL_SIMPLE
        else:
            return None
        kinds.append(code)
        etas.append(float(getattr(term, "eta", 0.0)))
    weights = np.array([float(w) for _, w, _ in terms])
    return np.array(kinds, dtype=np.int64), weights, np.array(etas)


def _batch_missing(term: Any) -> bool:
    """True when ``batch`` is the base class's unimplemented stub."""
    from tradecore.env.rewards import Term

    return isinstance(term, Term) and type(term).batch is Term.batch
