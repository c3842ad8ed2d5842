"""Experiment: a manifest's market, features, splits and reward terms, ready to make envs.

exp = build_experiment(resolved, candles, ctx)      # every check happens here, never mid-training
env = exp.make_env("train")                          # gymnasium.Env (Dict actions)
venv = exp.make_vec_env("train", 256, seed=0)        # gymnasium.vector.VectorEnv, one kernel call a step
exp.splits["test"], exp.candles("test"), exp.feature_names, exp.reward_names
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from tradecore.config.env import EnvConfig, SplitConfig
from tradecore.env.episodes import bars_needed
from tradecore.env.market import MarketData
from tradecore.env.rewards import probe_outcomes
from tradecore.env.splits import choose_embargo, compute_splits
from tradecore.errors import TradecoreError
from tradecore.interfaces import BatchOutcome, BatchRewardTerm, Candles, RewardTerm, RunContext

if TYPE_CHECKING:
    from tradecore.env.trading import TradingEnv
    from tradecore.env.vector import BatchedTradingEnv
    from tradecore.manifest import ResolvedManifest

_UNSET: Any = object()
TermFactory = Callable[[], RewardTerm]


@dataclass
class Experiment:
    """What a trainer receives: one manifest's market, splits and reward terms, ready to make envs.

    Cheap to keep; envs are made on demand, each with fresh reward-term instances. Bars are candle
    indices: ``splits["test"]`` is a ``range`` of rows of :attr:`market` (and of :meth:`candles`' source).
    """

    #: prices and features of every candle (warm-up rows included, never inside a split)
    market: MarketData
    #: the manifest's ``env`` section: window, costs, episodes, actions, observation
    config: EnvConfig
    #: the manifest's ``split`` section
    split_config: SplitConfig
    #: part name (``train``, ``validation``, ``test``; empty parts omitted) -> its candle rows
    splits: dict[str, range]
    #: ``(label, weight, factory)`` per reward term, in manifest order
    reward_terms: list[tuple[str, float, TermFactory]]
    #: every candle the features were computed from
    candles_all: Candles
    #: bars between split parts
    embargo: int
    #: the manifest's seed
    seed: int = 0
    #: the first row after the features' warm-up (the look-back of a feature row)
    first: int = 0
    #: where :attr:`embargo` comes from: ``split.embargo_bars``, ``feature look-back`` or ``env.window``
    embargo_reason: str = ""
    #: anything a caller wants to keep with the experiment
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        """The feature columns of an observation's ``market`` rows, in order."""
        return list(self.market.feature_names)

    @property
    def timeframe(self) -> str:
        """The candles' timeframe (``1m``, ``1h``, ...)."""
        return self.market.timeframe

    @property
    def reward_names(self) -> list[str]:
        """The reward terms' labels: the keys of ``info["reward_terms"]``."""
        return [name for name, _, _ in self.reward_terms]

    def split_range(self, split: str) -> range:
        """The candle rows of part ``split``; the error names the parts that exist."""
        if split not in self.splits:
            raise TradecoreError(f"split {split!r} does not exist; choose one of {', '.join(self.splits)}")
        return self.splits[split]

    def candles(self, split: str) -> Candles:
        """The candles of ``split`` (views), aligned with the env's bars, for baselines and plots."""
        r = self.split_range(split)
        return self.candles_all.slice(r.start, r.stop)

    def make_env(
        self,
        split: str = "train",
        *,
        random_start: bool | None = None,
        episode_steps: int | None = _UNSET,
        record: bool = False,
        render_mode: str | None = None,
    ) -> TradingEnv:
        """A gymnasium env over part ``split``; ``random_start``/``episode_steps`` override the manifest's,
        ``record`` keeps the episode for :meth:`TradingEnv.episode_record`."""
        from tradecore.env.trading import TradingEnv

        kwargs = {} if episode_steps is _UNSET else {"episode_steps": episode_steps}
        return TradingEnv(
            self.market,
            self.config,
            self.reward_terms,
            split=self.split_range(split),
            split_name=split,
            random_start=random_start,
            record=record,
            render_mode=render_mode,
            **kwargs,
        )

    def make_vec_env(
        self,
        split: str = "train",
        num_envs: int = 8,
        *,
        seed: int | None = None,
        random_start: bool | None = None,
        episode_steps: int | None = _UNSET,
    ) -> BatchedTradingEnv:
        """A gymnasium vector env of ``num_envs`` envs over part ``split``, stepped by one kernel call; sub-env
        ``i`` is seeded ``seed + i`` and behaves exactly like :meth:`make_env`'s env reset with that seed."""
        from tradecore.env.vector import BatchedTradingEnv

        kwargs = {} if episode_steps is _UNSET else {"episode_steps": episode_steps}
        return BatchedTradingEnv(
            self.market,
            self.config,
            self.reward_terms,
            num_envs,
            split=self.split_range(split),
            split_name=split,
            random_start=random_start,
            seed=seed,
            **kwargs,
        )

    def fold(self, index: int) -> Experiment:
        """The same experiment on walk-forward fold ``index`` (features are reused, not recomputed)."""
        usable = len(self.market) - self.first
        splits = compute_splits(
            usable, self.split_config, window=self.config.window, embargo=self.embargo, first=self.first, fold=index
        )
        return replace(self, splits=splits, split_config=self.split_config.model_copy(update={"fold": index}))


def build_experiment(
    resolved: ResolvedManifest, candles: Candles, ctx: RunContext | None = None, *, whole: bool = False
) -> Experiment:
    """Build indicators and features, compute the splits and check the reward terms, for ``resolved``.
    ``whole``: one part, ``"all"``, every bar after the warm-up (no split, no embargo), as evaluating a
    trained policy on other data needs."""
    manifest = resolved.manifest
    config = manifest.env
    values, names, start = _build_features(candles, manifest_indicators(resolved), config)
    terms = [
        (_term_label(c, i, resolved.reward), float(c.weight if c.weight is not None else 1.0), _component_factory(c))
        for i, c in enumerate(resolved.reward)
    ]
    return experiment_from_arrays(
        candles,
        values,
        names,
        config,
        manifest.split,
        terms,
        first=start,
        seed=manifest.seed,
        reward_paths=[c.path for c in resolved.reward],
        whole=whole,
    )


def feature_lookback(resolved: ResolvedManifest) -> int:
    """The candles a feature row of ``resolved`` reads before it (its warm-up), from params alone."""
    from tradecore.features.pipeline import lookback

    config = resolved.manifest.env
    return lookback(manifest_indicators(resolved), normalize=config.normalize, normalize_window=config.normalize_window)


def manifest_embargo(resolved: ResolvedManifest) -> tuple[int, str]:
    """The embargo a run of ``resolved`` uses, and where it comes from (see :func:`choose_embargo`)."""
    manifest = resolved.manifest
    return choose_embargo(manifest.split, window=manifest.env.window, lookback=feature_lookback(resolved))


def minimum_candles(resolved: ResolvedManifest) -> int:
    """The fewest candles ``resolved``'s features and env can step on once: the warm-up plus one window and
    the bar its first order fills at."""
    return feature_lookback(resolved) + bars_needed(resolved.manifest.env.window)


def manifest_indicators(resolved: ResolvedManifest) -> list[tuple[str, Any]]:
    """The manifest's indicators built and labelled (the default features when it names none)."""
    from tradecore.features.labels import labelled_indicators

    try:
        indicators = labelled_indicators(resolved.indicators)
    except TradecoreError:
        raise
    except (ValueError, TypeError) as exc:
        raise TradecoreError(f"indicators: cannot build an indicator: {exc}") from None
    if not indicators:
        from tradecore.env.defaults import DefaultFeatures

        indicators = [("default", DefaultFeatures())]
    return indicators


def experiment_from_arrays(
    candles: Candles,
    features: np.ndarray,
    feature_names: list[str],
    config: EnvConfig,
    split: SplitConfig | None = None,
    reward_terms: list[tuple[str, float, TermFactory]] = (),
    *,
    first: int = 0,
    seed: int = 0,
    reward_paths: list[str] | None = None,
    whole: bool = False,
) -> Experiment:
    """An experiment from precomputed, aligned features: row ``i`` of ``features`` belongs to candle
    ``first + i`` (rows before ``first`` are warm-up and never reach an env; ``first`` is also the
    features' look-back, which sizes the default embargo). ``whole``: see :func:`build_experiment`."""
    split = split or SplitConfig()
    n_rows = len(candles) - first
    if n_rows <= 0 or len(features) != n_rows:
        raise TradecoreError(
            f"indicators: {len(features)} feature rows for {n_rows} candles after warm-up "
            f"({first} rows); no rows left after warm-up"
        )
    if n_rows < bars_needed(config.window):
        raise TradecoreError(
            f"env.window: {config.window} bars need at least {bars_needed(config.window)} rows, but only "
            f"{n_rows} are left after {first} warm-up rows; lower env.window or load more data"
        )
    market = MarketData.from_arrays(candles, features, feature_names, first=first)
    embargo, reason = choose_embargo(split, window=config.window, lookback=first)
    if embargo < config.window:
        raise TradecoreError(
            f"split.embargo_bars: {embargo} is below env.window ({config.window}); the gap between "
            "parts must be at least one observation window"
        )
    if whole:
        embargo, reason = 0, "one part: no split"
        splits = {"all": range(first, len(candles))}
    else:
        splits = compute_splits(n_rows, split, window=config.window, embargo=embargo, first=first)
    paths = reward_paths or [f"reward[{i}]" for i in range(len(reward_terms))]
    for (name, weight, make), path in zip(reward_terms, paths):
        _check_term(name, weight, make, path)
    if not reward_terms:
        raise TradecoreError('reward: no reward terms; add at least {"type": "pnl"}')
    from tradecore.env.actions import ActionLayout

    ActionLayout.from_config(config)  # raises for an action setup with no choice
    return Experiment(
        market=market,
        config=config,
        split_config=split,
        splits=splits,
        reward_terms=list(reward_terms),
        candles_all=candles,
        embargo=embargo,
        seed=seed,
        first=first,
        embargo_reason=reason,
    )


def _build_features(candles: Candles, indicators: list[tuple[str, Any]], config: EnvConfig):
    from tradecore.features.pipeline import build_features

    fs = build_features(candles, indicators, normalize=config.normalize, normalize_window=config.normalize_window)
    return fs.values, list(fs.names), int(fs.start)


def _term_label(comp: Any, index: int, all_terms: list[Any]) -> str:
    name = comp.spec.name
    if sum(1 for c in all_terms if c.spec.name == name) > 1:
        return f"{name}[{index}]"
    return name


def _component_factory(comp: Any) -> TermFactory:
    def make() -> Any:
        return comp.build()

    return make


def _check_term(name: str, weight: float, make: TermFactory, path: str) -> None:
    """Build the term once and run it over probe outcomes: a non-finite value fails now, not mid-training."""
    if not math.isfinite(weight):
        raise TradecoreError(f"{path}.weight: must be a finite number, got {weight}")
    try:
        term = make()
    except TradecoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - a plugin's constructor failing is the user's error to see
        raise TradecoreError(f"{path}: cannot build reward term {name!r}: {exc}") from None
    if not callable(term):
        raise TradecoreError(f"{path}: reward term {name!r} is not callable (implement __call__(outcome))")
    probes = probe_outcomes()
    try:
        term.reset()
        values = [term(o) for o in probes]
    except Exception as exc:  # noqa: BLE001 - a plugin's term failing on a plausible step is the user's to see
        raise TradecoreError(
            f"{path}: reward term {name!r} failed on a plausible step: {type(exc).__name__}: {exc}"
        ) from None
    for value in values:
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise TradecoreError(
                f"{path}: reward term {name!r} returned a non-finite value ({value!r}) for a "
                "plausible step; check its params"
            )
    if isinstance(term, BatchRewardTerm):
        batch = BatchOutcome(
            *(np.array([getattr(o, name) for o in probes]) for name in BatchOutcome.__dataclass_fields__)
        )
        try:
            term.reset_batch(len(probes))
            values = np.asarray(term.batch(batch), dtype=np.float64)
        except Exception as exc:  # noqa: BLE001 - as above, for the batch form
            raise TradecoreError(
                f"{path}: reward term {name!r} batch form failed on plausible steps: {type(exc).__name__}: {exc}"
            ) from None
        if values.shape != (len(probes),) or not np.isfinite(values).all():
            raise TradecoreError(
                f"{path}: reward term {name!r} batch form returned non-finite values or a wrong shape; check its params"
            )
