"""A portfolio experiment: the manifest's aligned assets, per-asset features, splits and reward terms, ready to make
envs. The portfolio counterpart of :class:`tradecore.env.experiment.Experiment`, with the same split, embargo
and reward-term rules (the normalisation's statistics are causal, so nothing is fit on more than train sees).

    aligned = load_aligned(resolved, ctx)                  # the data stage: one grid, provenance in .record
    exp = build_portfolio_experiment(resolved, aligned)
    env = exp.make_env("train"); venv = exp.make_vec_env("train", 256, seed=0)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from tradecore.config.env import PortfolioEnvConfig, SplitConfig
from tradecore.data.align import AlignedCandles
from tradecore.env.engine import TermFactory
from tradecore.env.episodes import bars_needed
from tradecore.env.experiment import _check_term, _component_factory, _term_label, manifest_indicators
from tradecore.env.portfolio_engine import PortfolioMarket, bar_major
from tradecore.env.splits import choose_embargo, compute_splits
from tradecore.errors import TradecoreError
from tradecore.features.portfolio import PortfolioFeatures

if TYPE_CHECKING:
    from tradecore.env.portfolio import PortfolioEnv
    from tradecore.env.portfolio_vector import BatchedPortfolioEnv
    from tradecore.interfaces import RunContext
    from tradecore.manifest import ResolvedManifest

_UNSET: Any = object()


@dataclass(frozen=True)
class PortfolioExperiment:
    """Bars are grid rows: ``splits["test"]`` is a ``range`` of rows of :attr:`market` and :attr:`aligned`."""

    market: PortfolioMarket
    config: PortfolioEnvConfig
    split_config: SplitConfig
    splits: dict[str, range]
    reward_terms: list[tuple[str, float, TermFactory]]
    aligned: AlignedCandles
    embargo: int
    seed: int = 0
    first: int = 0
    embargo_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def symbols(self) -> tuple[str, ...]:
        return self.market.symbols

    @property
    def feature_names(self) -> list[str]:
        """Every asset's features as ``asset:feature``, in observation order."""
        return self.market.qualified_names

    @property
    def timeframe(self) -> str:
        return self.market.timeframe

    @property
    def reward_names(self) -> list[str]:
        return [name for name, _, _ in self.reward_terms]

    def split_range(self, split: str) -> range:
        if split not in self.splits:
            raise TradecoreError(f"split {split!r} does not exist; choose one of {', '.join(self.splits)}")
        return self.splits[split]

    def candles(self, split: str) -> AlignedCandles:
        """The aligned candles of ``split`` (views), for baselines and plots."""
        r = self.split_range(split)
        return self.aligned.slice(r.start, r.stop)

    def make_env(
        self, split: str = "train", *, random_start: bool | None = None, episode_steps: int | None = _UNSET
    ) -> PortfolioEnv:
        from tradecore.env.portfolio import PortfolioEnv

        kwargs = {} if episode_steps is _UNSET else {"episode_steps": episode_steps}
        return PortfolioEnv(
            self.market,
            self.config,
            self.reward_terms,
            split=self.split_range(split),
            split_name=split,
            random_start=random_start,
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
    ) -> BatchedPortfolioEnv:
        from tradecore.env.portfolio_vector import BatchedPortfolioEnv

        kwargs = {} if episode_steps is _UNSET else {"episode_steps": episode_steps}
        return BatchedPortfolioEnv(
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

    def fold(self, index: int) -> PortfolioExperiment:
        """The same experiment on walk-forward fold ``index`` (features are reused)."""
        usable = len(self.market) - self.first
        splits = compute_splits(
            usable, self.split_config, window=self.config.window, embargo=self.embargo, first=self.first, fold=index
        )
        return replace(self, splits=splits, split_config=self.split_config.model_copy(update={"fold": index}))


def load_aligned(resolved: ResolvedManifest, ctx: RunContext) -> AlignedCandles:
    """Load every symbol of ``source.params.symbols`` with the manifest's source and align them
    (``env.missing`` decides about missing data); the record names each symbol's source identity."""
    import polars as pl

    from tradecore.data.align import align_frames
    from tradecore.data.quality import source_facts

    config = resolved.manifest.env
    frames: dict[str, pl.DataFrame] = {}
    facts, described = {}, {}
    timeframe = None
    symbols = resolved.source.symbols
    if resolved.source.symbol_group:
        from tradecore.data.groups import group

        symbols = tuple(group(resolved.source.symbol_group)["pairs"])
        if len(symbols) < 2:
            raise TradecoreError(
                f"source.params.symbols: pair group {resolved.source.symbol_group!r} has {len(symbols)} pair(s); "
                "a portfolio needs at least two"
            )
    for symbol, source in resolved.source.build_each(symbols):
        frame = source.load(ctx)
        describe = source.describe()
        timeframe = describe.get("timeframe", "1m")
        frames[symbol], facts[symbol], described[symbol] = frame, source_facts(source, describe), describe
    aligned = align_frames(frames, timeframe or "1m", missing=config.missing, facts=facts)
    aligned.record["sources"] = described
    return aligned


def build_portfolio_experiment(
    resolved: ResolvedManifest, aligned: AlignedCandles, *, whole: bool = False
) -> PortfolioExperiment:
    """Per-asset features (the manifest's indicators, cross-asset ones included), splits and reward terms."""
    from tradecore.features.portfolio import build_portfolio_features

    manifest = resolved.manifest
    config = manifest.env
    features = build_portfolio_features(
        aligned, manifest_indicators(resolved), normalize=config.normalize, normalize_window=config.normalize_window
    )
    terms = [
        (_term_label(c, i, resolved.reward), float(c.weight if c.weight is not None else 1.0), _component_factory(c))
        for i, c in enumerate(resolved.reward)
    ]
    return portfolio_experiment_from_arrays(
        aligned,
        features,
        config,
        manifest.split,
        terms,
        seed=manifest.seed,
        reward_paths=[c.path for c in resolved.reward],
        whole=whole,
    )


def portfolio_experiment_from_arrays(
    aligned: AlignedCandles,
    features: PortfolioFeatures,
    config: PortfolioEnvConfig,
    split: SplitConfig | None = None,
    reward_terms: list[tuple[str, float, TermFactory]] = (),
    *,
    seed: int = 0,
    reward_paths: list[str] | None = None,
    whole: bool = False,
) -> PortfolioExperiment:
    """An experiment from aligned candles and their features (``features.values[a, i]`` belongs to grid row
    ``features.start + i``)."""
    split = split or SplitConfig()
    first = features.start
    n_rows = len(aligned) - first
    if n_rows < bars_needed(config.window):
        raise TradecoreError(
            f"env.window: {config.window} bars need at least {bars_needed(config.window)} rows, but only "
            f"{max(n_rows, 0)} are left after {first} warm-up rows; lower env.window or load more data"
        )
    market = portfolio_market(aligned, features)
    config.cost_bps("fee_bps", aligned.symbols)  # per-symbol costs must name the symbols
    config.cost_bps("slippage_bps", aligned.symbols)
    embargo, reason = choose_embargo(split, window=config.window, lookback=first)
    if whole:
        embargo, reason = 0, "one part: no split"
        splits = {"all": range(first, len(aligned))}
    else:
        splits = compute_splits(n_rows, split, window=config.window, embargo=embargo, first=first)
    if not reward_terms:
        raise TradecoreError('reward: no reward terms; add at least {"type": "pnl"}')
    paths = reward_paths or [f"reward[{i}]" for i in range(len(reward_terms))]
    for (name, weight, make), path in zip(reward_terms, paths):
        _check_term(name, weight, make, path)
    return PortfolioExperiment(
        market=market,
        config=config,
        split_config=split,
        splits=splits,
        reward_terms=list(reward_terms),
        aligned=aligned,
        embargo=embargo,
        seed=seed,
        first=first,
        embargo_reason=reason,
    )


def portfolio_market(aligned: AlignedCandles, features: PortfolioFeatures) -> PortfolioMarket:
    """Check and pack the market: finite features after the warm-up, positive consistent prices."""
    values = features.values
    if values.shape[0] != aligned.assets or values.shape[1] != len(aligned) - features.start:
        raise TradecoreError(
            f"indicators: feature block has shape {values.shape}, expected "
            f"({aligned.assets}, {len(aligned) - features.start}, k)"
        )
    if values.shape[2] == 0:
        raise TradecoreError("indicators: no feature columns; add an indicator")
    bad = ~np.isfinite(values)
    if bad.any():
        a, row, col = np.argwhere(bad)[0]
        raise TradecoreError(
            f"indicators: feature {aligned.symbols[a]}:{features.names[col]} is NaN or infinite at row "
            f"{features.start + row}; drop warm-up rows or fix the indicator's params"
        )
    p = aligned.prices
    if not np.isfinite(p).all() or (p <= 0).any():
        raise TradecoreError("source: prices must be finite and positive for every symbol")
    full = np.zeros((aligned.assets, len(aligned), values.shape[2]), dtype=np.float32)
    full[:, features.start :] = values
    return PortfolioMarket(
        symbols=aligned.symbols,
        time=np.ascontiguousarray(aligned.time),
        prices=bar_major(p),
        traded=bar_major(aligned.traded),
        features=full,
        feature_names=tuple(features.names),
        timeframe=aligned.timeframe,
    )
