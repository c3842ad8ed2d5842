"""The five kinds of component, one row each: registration hook, spec type, label and manifest key.

Everything that enumerates kinds (the registry, listings, the manifest, its schema, legacy entry-point
groups) derives from :data:`KINDS`; the order here is the order listings use. Importing this module is
cheap: the spec types import no pydantic.
"""

from __future__ import annotations

from dataclasses import dataclass

from tradecore.specs import BackendSpec, ComponentSpec, IndicatorSpec, RewardTermSpec, SourceSpec, TrainerSpec


@dataclass(frozen=True)
class Kind:
    """One kind of component and every name it goes by."""

    #: the spec type its registration hook yields; its ``kind`` is the key below
    spec_type: type[ComponentSpec]
    #: the registration hook in :mod:`tradecore.hookspecs`
    hook: str
    #: how messages name one component of this kind
    label: str
    #: the manifest's key for components of this kind
    manifest_key: str
    #: the manifest holds a list of them (else one)
    many: bool

    @property
    def key(self) -> str:
        """Registry and CLI name of the kind (``tradecore components indicators``)."""
        return self.spec_type.kind

    @property
    def legacy_group(self) -> str:
        """The per-kind entry-point group plugins declared before the single ``tradecore`` group."""
        return f"tradecore.{self.key}"


KINDS: tuple[Kind, ...] = (
    Kind(SourceSpec, hook="tradecore_sources", label="source", manifest_key="source", many=False),
    Kind(IndicatorSpec, hook="tradecore_indicators", label="indicator", manifest_key="indicators", many=True),
    Kind(RewardTermSpec, hook="tradecore_reward_terms", label="reward term", manifest_key="reward", many=True),
    Kind(TrainerSpec, hook="tradecore_trainers", label="trainer", manifest_key="trainer", many=False),
    Kind(BackendSpec, hook="tradecore_backends", label="backend", manifest_key="backend", many=False),
)
#: kind key ("indicators") -> its row
BY_KEY: dict[str, Kind] = {kind.key: kind for kind in KINDS}
