"""JSON Schema of the manifest, including every installed component's params (for editors)."""

from __future__ import annotations

import json
from typing import Any

from tradecore.kinds import KINDS
from tradecore.manifest import Manifest
from tradecore.registry import Registry

SCHEMA_ID = "https://tradecore.dev/schema/manifest.schema.json"


def manifest_schema(registry: Registry) -> dict[str, Any]:
    """The envelope schema with each component reference narrowed by its ``type``."""
    schema = Manifest.model_json_schema(by_alias=True)
    defs = schema.setdefault("$defs", {})
    schema["$id"] = SCHEMA_ID
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    for component in KINDS:
        key, kind = component.manifest_key, component.key
        base = "RewardRef" if key == "reward" else "ComponentRef"
        names, branches = [], []
        for provided in registry.all(kind):
            prefix = f"{kind}.{provided.plugin}.{provided.spec.name}."
            params = provided.spec.params_model.model_json_schema(ref_template="#/$defs/" + prefix + "{model}")
            for def_name, def_schema in params.pop("$defs", {}).items():
                defs[prefix + def_name] = def_schema
            defs[prefix + "params"] = params
            accepted = [provided.spec.name, provided.qualified]
            names.extend(accepted)
            branches.append(
                {
                    "if": {"properties": {"type": {"enum": accepted}}, "required": ["type"]},
                    "then": {"properties": {"params": {"$ref": f"#/$defs/{prefix}params"}}},
                }
            )
        ref_schema = {
            "allOf": [{"$ref": f"#/$defs/{base}"}, *branches],
            "properties": {"type": {"enum": sorted(set(names))}} if names else {},
        }
        defs[f"{kind}.ref"] = ref_schema
        target = f"#/$defs/{kind}.ref"
        prop = schema["properties"][key]
        if component.many:
            prop["items"] = {"$ref": target}
        elif "anyOf" in prop:  # optional single component (trainer)
            prop["anyOf"] = [{"$ref": target}, {"type": "null"}]
        else:
            prop.pop("$ref", None)
            prop["$ref"] = target
    return schema


def dumps(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
