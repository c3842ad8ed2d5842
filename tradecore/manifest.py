"""The experiment manifest: the envelope models and two-phase validation against the registry.

Phase 1 checks the envelope (static, versioned, ``extra="forbid"``). Phase 2 looks up every
component ``type`` and validates its ``params`` against the model its plugin declared. Both phases
run on every manifest and all errors are reported together, each with its JSON path.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tradecore import strict_json
from tradecore.config.data import DataConfig
from tradecore.config.env import AnyEnvConfig, EnvConfig, SplitConfig
from tradecore.config.sweep import SweepConfig
from tradecore.errors import ManifestError, ManifestIssue, join_path
from tradecore.kinds import BY_KEY, KINDS

if TYPE_CHECKING:
    from tradecore.registry import Registry
    from tradecore.specs import ComponentSpec

MANIFEST_VERSION = 1


class ComponentRef(BaseModel):
    """A component chosen by ``type`` (``name`` or ``plugin/name``) with its ``params``."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="Component name, or plugin/name when two plugins share a name")
    params: dict[str, Any] = Field(default_factory=dict, description="The component's params")


class RewardRef(ComponentRef):
    """A reward term and its weight in the summed reward."""

    weight: float = Field(1.0, description="Multiplier of this term in the summed reward")


class Manifest(BaseModel):
    """One experiment: data, features, environment, reward, split, trainer and compute."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: str | None = Field(None, alias="$schema", description="JSON Schema for editors")
    version: Literal[1] = Field(description="Manifest format version")
    name: str = Field(
        "experiment", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$", description="Run name (letters, digits, . _ -)"
    )
    description: str | None = None
    seed: int = Field(0, ge=0, lt=2**32, description="Seed for data splits, env and trainer")
    lake: str | None = Field(None, description="Lake root (default: TRADECORE_LAKE or the user data dir)")
    source: ComponentRef
    data: DataConfig = Field(default_factory=DataConfig, description="Quality the source's candles must meet")
    indicators: list[ComponentRef] = Field(default_factory=list)
    env: AnyEnvConfig = Field(default_factory=EnvConfig)
    reward: list[RewardRef] = Field(default_factory=lambda: [RewardRef(type="pnl")])
    split: SplitConfig = Field(default_factory=SplitConfig)
    trainer: ComponentRef | None = None
    backend: ComponentRef = Field(default_factory=lambda: ComponentRef(type="local"))
    sweep: SweepConfig | None = Field(None, description="Run many variants of this manifest (grid or random search)")

    @model_validator(mode="after")
    def _sections_agree(self) -> Manifest:
        """Rules that join two sections; the run would refuse them after loading the data."""
        split, window = self.split, self.env.window
        if split.embargo_bars is not None and split.embargo_bars < window:
            raise ValueError(
                f"split.embargo_bars: {split.embargo_bars} is below env.window ({window}); the gap between "
                "parts must be at least one observation window (or leave it out for the default)"
            )
        if not self.reward:
            raise ValueError('reward: no reward terms; add at least {"type": "pnl"}')
        if self.env.type == "portfolio" and (self.data.slice is not None or self.data.quality is not None):
            field = "data.slice" if self.data.slice is not None else "data.quality"
            raise ValueError(
                f'{field}: applies to one pair\'s series; a portfolio (env.type "portfolio") treats holes with '
                "env.missing instead: remove it"
            )
        return self


@dataclass(frozen=True)
class ResolvedComponent:
    """A component reference matched to its spec, with validated params."""

    path: str
    plugin: str
    spec: ComponentSpec
    params: BaseModel
    weight: float | None = None
    #: a source's ``params.symbols`` (a portfolio): one source per symbol, its ``symbol`` param replaced
    symbols: tuple[str, ...] = ()
    #: or the name of a pair group in the user's config (looked up by the data stage)
    symbol_group: str | None = None

    def build(self) -> Any:
        return self.spec.build(self.params)

    def build_each(self, symbols: tuple[str, ...] | None = None) -> list[tuple[str, Any]]:
        """``(symbol, built component)`` for every symbol of ``params.symbols`` (or of ``symbols``, a group's)."""
        indexed = "asset_index" in type(self.params).model_fields  # a generator: each asset its own stream
        built = []
        for i, symbol in enumerate(symbols or self.symbols):
            update = {"symbol": symbol, **({"asset_index": i} if indexed else {})}
            built.append((symbol, self.spec.build(self.params.model_copy(update=update))))
        return built

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.spec.name,
            "plugin": self.plugin,
            "params": self.params.model_dump(mode="json"),
        }
        if self.weight is not None:
            out["weight"] = self.weight
        if self.symbols or self.symbol_group:
            out["params"]["symbols"] = list(self.symbols) if self.symbols else self.symbol_group
        return out


@dataclass(frozen=True)
class ResolvedManifest:
    manifest: Manifest
    source: ResolvedComponent
    indicators: list[ResolvedComponent]
    reward: list[ResolvedComponent]
    trainer: ResolvedComponent | None
    backend: ResolvedComponent
    plugins: dict[str, str | None] = field(default_factory=dict)  # plugin name -> version used

    def as_dict(self) -> dict[str, Any]:
        """The manifest with every default filled in: what a run folder records."""
        data = self.manifest.model_dump(mode="json", exclude={"schema_"})
        data["source"] = self.source.as_dict()
        data["indicators"] = [c.as_dict() for c in self.indicators]
        data["reward"] = [c.as_dict() for c in self.reward]
        data["trainer"] = self.trainer.as_dict() if self.trainer else None
        data["backend"] = self.backend.as_dict()
        return data


# -- loading ----------------------------------------------------------------------------------------
def read_manifest_file(path: str | Path) -> Any:
    """Parse a manifest file into plain JSON data, with a one-line error for every failure."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(
            [ManifestIssue("", f"manifest file {str(path)!r} not found", hint="check the path")]
        ) from None
    except IsADirectoryError:
        raise ManifestError([ManifestIssue("", f"{str(path)!r} is a directory, not a manifest file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError([ManifestIssue("", f"cannot read {str(path)!r}: {exc}")]) from None
    return parse_manifest_text(text, source=str(path))


def parse_manifest_text(text: str, source: str = "<manifest>") -> Any:
    try:
        return strict_json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(
            [
                ManifestIssue(
                    "",
                    f"{source}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}",
                    hint="manifests are strict JSON: double quotes, no trailing commas, no comments",
                )
            ]
        ) from None
    except strict_json.DuplicateKey as exc:
        raise ManifestError(
            [ManifestIssue("", f"{source}: {exc}", hint=f"keep one {exc.key!r}: JSON objects hold each key once")]
        ) from None
    except ValueError as exc:
        raise ManifestError([ManifestIssue("", f"{source}: invalid JSON: {exc}")]) from None


def load_manifest(path_or_data: str | Path | dict[str, Any], registry: Registry | None = None) -> Manifest:
    """Load and validate the envelope of a manifest (a path or already-parsed data).

    With a ``registry``, component params are validated too (use :func:`resolve` to get them back).
    """
    data = path_or_data if isinstance(path_or_data, dict) else read_manifest_file(path_or_data)
    if registry is not None:
        return resolve(data, registry).manifest
    issues: list[ManifestIssue] = []
    manifest = _validate_envelope(data, issues)
    if issues or manifest is None:
        raise ManifestError(issues)
    return manifest


def resolve(data: Any, registry: Registry) -> ResolvedManifest:
    """Validate ``data`` in both phases and resolve every component; raise all errors at once."""
    issues = strict_json.value_issues(data)
    if issues:  # a non-finite number or a hidden character would pass the models and fail a run later
        raise ManifestError(issues)
    manifest = _validate_envelope(data, issues)
    resolved: dict[str, Any] = {}
    if isinstance(data, dict):
        for kind in (k for k in KINDS if not k.many):
            key = kind.manifest_key
            raw = data.get(key, {"type": "local"} if key == "backend" else None)
            resolved[key] = _resolve_ref(raw, key, kind.key, registry, issues) if raw is not None else None
        for kind in (k for k in KINDS if k.many):
            key = kind.manifest_key
            raw_list = data.get(key, [{"type": "pnl"}] if key == "reward" else [])
            resolved[key] = (
                [_resolve_ref(item, f"{key}[{i}]", kind.key, registry, issues) for i, item in enumerate(raw_list)]
                if isinstance(raw_list, list)
                else []
            )
    if manifest is not None and resolved.get("source") is not None:
        _check_portfolio(manifest, resolved, issues)
    if issues or manifest is None:
        raise ManifestError(issues)
    plugins = {
        c.plugin: registry.manager.records[c.plugin].version
        for c in [
            resolved["source"],
            resolved["trainer"],
            resolved["backend"],
            *resolved["indicators"],
            *resolved["reward"],
        ]
        if c is not None
    }
    return ResolvedManifest(manifest=manifest, plugins=plugins, **resolved)


def _validate_envelope(data: Any, issues: list[ManifestIssue]) -> Manifest | None:
    if not isinstance(data, dict):
        issues.append(
            ManifestIssue(
                "", "a manifest must be a JSON object", value=data, expected='{"version": 1, "source": {...}, ...}'
            )
        )
        return None
    try:
        return validate_json_strict(Manifest, data)
    except ValidationError as exc:
        issues.extend(issues_from_validation(exc, "", Manifest, data))
        return None


def _resolve_ref(
    raw: Any, path: str, kind: str, registry: Registry, issues: list[ManifestIssue]
) -> ResolvedComponent | None:
    from tradecore.registry import LookupFailure

    # envelope errors (not an object, no type) are reported by phase 1 already
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return None
    try:
        provided = registry.lookup(kind, raw["type"])
    except LookupFailure as exc:
        issues.append(ManifestIssue(f"{path}.type", exc.message, value=raw["type"], hint=exc.hint))
        return None
    params = raw.get("params", {})
    if not isinstance(params, dict):
        return None
    symbols: tuple[str, ...] = ()
    symbol_group = None
    if kind == "sources" and "symbols" in params:
        params = dict(params)
        value = params.pop("symbols")
        if isinstance(value, str) and value:  # a pair group: the data stage reads the user's config
            symbol_group = value
        else:
            symbols = _symbols(value, f"{path}.params.symbols", issues)
        if symbols:
            params["symbol"] = symbols[0]
    try:
        params_model = provided.spec.params_model
    except Exception as exc:  # a lazily loaded params model that fails to import or breaks the contract
        from tradecore.plugins import one_line

        issues.append(
            ManifestIssue(
                f"{path}.type",
                f"{BY_KEY[kind].label} {raw['type']!r} of plugin {provided.plugin!r} is broken: {one_line(exc)}",
                hint="report it to the plugin's authors, or run with --strict",
            )
        )
        return None
    if (symbols or symbol_group) and "symbol" not in params_model.model_fields:
        issues.append(
            ManifestIssue(f"{path}.params.symbols", f"source {raw['type']!r} takes no symbol; it cannot load several")
        )
        return None
    if "symbol" in raw.get("params", {}) and (symbols or symbol_group):
        issues.append(ManifestIssue(f"{path}.params.symbol", "give either symbol or symbols, not both"))
        return None
    try:
        model = validate_json_strict(params_model, params)
        for i, symbol in enumerate(symbols[1:], 1):
            try:
                validate_json_strict(params_model, {**params, "symbol": symbol})
            except ValidationError as exc:
                issues.append(ManifestIssue(f"{path}.params.symbols[{i}]", _first_message(exc), value=symbol))
    except ValidationError as exc:
        issues.extend(issues_from_validation(exc, f"{path}.params", params_model, params))
        return None
    weight = raw.get("weight", 1.0) if kind == "rewards" else None
    if weight is not None and not isinstance(weight, (int, float)):
        return None
    return ResolvedComponent(
        path=path,
        plugin=provided.plugin,
        spec=provided.spec,
        params=model,
        weight=float(weight) if weight is not None else None,
        symbols=symbols,
        symbol_group=symbol_group,
    )


def _symbols(value: Any, path: str, issues: list[ManifestIssue]) -> tuple[str, ...]:
    """``source.params.symbols`` given as a list of pairs."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        issues.append(ManifestIssue(path, "must be a list of symbols or a pair group's name", value=value))
        return ()
    if len(value) < 2:
        issues.append(ManifestIssue(path, "a portfolio needs at least two symbols", value=value))
        return ()
    if len(set(value)) != len(value):
        issues.append(ManifestIssue(path, "symbols must be distinct", value=value))
        return ()
    return tuple(value)


def _first_message(exc: ValidationError) -> str:
    return exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")


def _check_portfolio(manifest: Manifest, resolved: dict[str, Any], issues: list[ManifestIssue]) -> None:
    """Rules joining the source, the env type and the indicators of a portfolio."""
    portfolio = getattr(manifest.env, "type", "single") == "portfolio"
    symbols = resolved["source"].symbols or resolved["source"].symbol_group
    reported = any(issue.path.startswith("source.params.symbols") for issue in issues)
    if portfolio and not symbols and not reported:
        issues.append(
            ManifestIssue("source.params.symbols", 'env.type "portfolio" needs a list of two or more symbols')
        )
    if symbols and not portfolio:
        issues.append(ManifestIssue("env.type", 'several source.params.symbols need env.type "portfolio"'))
    for component in resolved.get("indicators") or []:
        if component is not None and component.spec.meta.get("cross_asset") and not portfolio:
            issues.append(
                ManifestIssue(
                    f"{component.path}.type", f'{component.spec.name!r} is cross-asset: it needs env.type "portfolio"'
                )
            )


def validate_json_strict(model: type[BaseModel], data: Any) -> Any:
    """Validate as JSON in strict mode: ``"7"`` is not an int, but ``"2024-01-01"`` is a datetime."""
    return model.model_validate_json(json.dumps(data, default=str, allow_nan=True), strict=True)


# -- turning pydantic errors into issues --------------------------------------------------------------
def issues_from_validation(exc: ValidationError, prefix: str, model: type[BaseModel], data: Any) -> list[ManifestIssue]:
    out = []
    for err in _one_branch_per_union(exc.errors(include_url=False), data):
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        path = join_path(prefix, loc)
        kind, value = err["type"], err.get("input")
        hint = None
        if kind == "extra_forbidden":
            fields = _fields_at(model, loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), fields, n=1, cutoff=0.6)
            hint = (
                f"did you mean {close[0]!r}?" if close else (f"allowed keys: {', '.join(fields)}" if fields else None)
            )
            out.append(ManifestIssue(path, f"unknown key {str(loc[-1])!r}", hint=hint))
            continue
        if kind == "missing":
            out.append(ManifestIssue(path, "required key is missing"))
            continue
        expected = err["msg"].removeprefix("Input should be ").removeprefix("Value error, ")
        hint = _type_hint(kind, value)
        if kind == "value_error" and isinstance(value, dict):
            value = None  # a rule across an object's fields: its message names them; the object is noise
        out.append(
            ManifestIssue(
                path,
                err["msg"].removeprefix("Value error, "),
                value=value,
                expected=None if expected == err["msg"] else expected,
                hint=hint,
            )
        )
    return out


def _type_hint(kind: str, value: Any) -> str | None:
    """A 'did you mean' for near-miss types: quoted numbers, booleans as strings, a lone object."""
    if isinstance(value, str) and kind in ("int_type", "int_parsing", "float_type", "float_parsing"):
        try:
            number = float(value)
            if math.isfinite(number):
                text = value.strip()
                return f"did you mean {text} (a number, without quotes)?"
        except ValueError:
            return None
    if isinstance(value, str) and kind in ("bool_type", "bool_parsing") and value.lower() in ("true", "false"):
        return f"did you mean {value.lower()} (without quotes)?"
    if kind == "list_type" and isinstance(value, (dict, str, int, float)):
        return "did you mean a list: [ ... ]?"
    return None


def _fields_at(model: type[BaseModel] | None, loc: list[Any]) -> list[str]:
    """Field names of the (nested) model at ``loc``; [] when unknown."""
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        info = model.model_fields.get(str(part)) if hasattr(model, "model_fields") else None
        if info is None:
            return []
        model = model_of(info.annotation)
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (``Foo``, ``Foo | None``, ``list[Foo]``), or None."""
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = model_of(arg)
        if found is not None:
            return found
    return None


#: how pydantic names the members of a union in an error's location: ``float``, ``list[int]``, ``NetArch``
_UNION_TAG = re.compile(r"^(constrained-)?(int|float|str|bool|none|(list|dict|tuple)\[.*\]|literal\[.*\]|[A-Z]\w*)$")
#: the union member that matches a JSON value's type
_JSON_TYPE_TAGS = {
    bool: ("bool",),
    int: ("int", "float"),
    float: ("float",),
    str: ("str", "literal["),
    list: ("list[", "tuple["),
    dict: ("dict[",),
}


def _one_branch_per_union(errors: list[Any], data: Any) -> list[Any]:
    """Keep, for a value that matched no member of a union, the errors of the member of its own JSON
    type (a number is judged against ``float``, an object against the model), with the member's name
    dropped from the path: ``learning_rate: Input should be greater than 0``, not one line per member."""
    kept, branches = [], {}
    for err in errors:
        loc = list(err["loc"])
        tag_at = next(
            (
                i
                for i, p in enumerate(loc)
                if isinstance(p, str)
                and _UNION_TAG.match(p)
                and not (err["type"] == "extra_forbidden" and i == len(loc) - 1)  # the unknown key itself
            ),
            None,
        )
        if tag_at is None:
            kept.append(err)
            continue
        branches.setdefault(tuple(loc[:tag_at]), []).append(
            (loc[tag_at], {**err, "loc": (*loc[:tag_at], *loc[tag_at + 1 :])})
        )
    for where, members in branches.items():
        value = _value_at(data, where)
        tags = _JSON_TYPE_TAGS.get(type(value), ())
        matching = [
            e
            for tag, e in members
            if tag.removeprefix("constrained-").lower().startswith(tags)
            or (isinstance(value, dict) and tag[:1].isupper())
        ]
        kept.extend(matching or [e for _, e in members])
    return kept


def _value_at(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data
