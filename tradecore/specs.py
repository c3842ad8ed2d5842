"""Typed component specs: what a plugin registers for each kind of component.

A spec names a component, describes it, declares its params as a pydantic model (``extra="forbid"``)
and points at a lazy factory (``"package.module:attr"``), so listing and validation never import the
heavy implementation. Building calls ``factory(params)`` with the validated params model.

``params`` may itself be lazy (``"package.module:attr"``): a plugin with a large catalogue then lists
without building a model per component; :attr:`ComponentSpec.params_model` loads and checks it on first
use.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Union

if TYPE_CHECKING:
    from pydantic import BaseModel

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")

Factory = Union[str, Callable[..., Any]]  # noqa: UP007 - evaluated at runtime on 3.11


class SpecError(ValueError):
    """A plugin returned a spec that breaks the contract."""


@dataclass(frozen=True)
class ComponentSpec:
    """Common shape of every component spec."""

    name: str
    description: str
    params: type[BaseModel] | str
    factory: Factory
    #: extra, kind-specific facts a listing may show (e.g. an indicator's output columns)
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    #: the key of the component's kind; :mod:`tradecore.kinds` holds the rest of its row
    kind: ClassVar[str] = ""

    def check(self) -> None:
        """Raise :class:`SpecError` when the spec breaks the contract."""
        if not isinstance(self.name, str) or not NAME_PATTERN.match(self.name):
            raise SpecError(
                f"invalid {self.kind} name {self.name!r}: use lowercase letters, digits, '-' or '_', "
                "starting with a letter"
            )
        if not isinstance(self.description, str) or not self.description.strip():
            raise SpecError(f"{self.kind} {self.name!r} has no description")
        if isinstance(self.params, str):
            _check_reference(self, "params", self.params)  # the model itself is checked when first used
        else:
            self._check_model(self.params)
        if isinstance(self.factory, str):
            _check_reference(self, "factory", self.factory)
        elif not callable(self.factory):
            raise SpecError(f"{self.kind} {self.name!r}: factory must be 'module:attr' or a callable")

    def _check_model(self, model: Any) -> None:
        from pydantic import BaseModel

        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise SpecError(f"{self.kind} {self.name!r}: params must be a pydantic BaseModel subclass")
        if model.model_config.get("extra") != "forbid":
            raise SpecError(
                f"{self.kind} {self.name!r}: params model {model.__name__} must set "
                "model_config = ConfigDict(extra='forbid')"
            )

    @cached_property
    def params_model(self) -> type[BaseModel]:
        """The params model, imported on first use when ``params`` is a ``"module:attr"`` string."""
        model = _import_reference(self.params) if isinstance(self.params, str) else self.params
        self._check_model(model)
        return model

    def load_factory(self) -> Callable[..., Any]:
        """Import and return the factory (the only place a heavy dependency gets imported)."""
        return _import_reference(self.factory) if isinstance(self.factory, str) else self.factory

    def build(self, params: BaseModel) -> Any:
        """Create the runtime component from validated params."""
        return self.load_factory()(params)


def _check_reference(spec: ComponentSpec, what: str, value: str) -> None:
    if ":" not in value or not all(value.split(":", 1)):
        raise SpecError(f"{spec.kind} {spec.name!r}: {what} {value!r} must look like 'package.module:attr'")


def _import_reference(reference: str) -> Any:
    module_name, _, attr = reference.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class SourceSpec(ComponentSpec):
    """A market-data source; builds a :class:`tradecore.interfaces.DataSource`."""

    kind: ClassVar[str] = "sources"


@dataclass(frozen=True)
class IndicatorSpec(ComponentSpec):
    """An indicator; builds a :class:`tradecore.interfaces.Indicator`."""

    kind: ClassVar[str] = "indicators"


@dataclass(frozen=True)
class RewardTermSpec(ComponentSpec):
    """A reward term; builds a :class:`tradecore.interfaces.RewardTerm`."""

    kind: ClassVar[str] = "rewards"


@dataclass(frozen=True)
class TrainerSpec(ComponentSpec):
    """A trainer; builds a :class:`tradecore.interfaces.Trainer`."""

    kind: ClassVar[str] = "trainers"


@dataclass(frozen=True)
class BackendSpec(ComponentSpec):
    """A compute backend; builds a :class:`tradecore.interfaces.ComputeBackend`."""

    kind: ClassVar[str] = "backends"
