"""JSON Schema of the manifest, including every installed component's params (for editors)."""

from __future__ import annotations

import json
from typing import Any

from tradecore.manifest import LIST_COMPONENTS, SINGLE_COMPONENTS, Manifest
from tradecore.registry import Registry

SCHEMA_ID = "https://tradecore.dev/schema/manifest.schema.json"


def manifest_schema(registry: Registry) -> dict[str, Any]:
    """The envelope schema with each component reference narrowed by its ``type``."""
    schema = Manifest.model_json_schema(by_alias=True)
    defs = schema.setdefault("$defs", {})
    schema["$id"] = SCHEMA_ID
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    for key, kind in {**SINGLE_COMPONENTS, **LIST_COMPONENTS}.items():
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
        if key in LIST_COMPONENTS:
            prop["items"] = {"$ref": target}
        elif "anyOf" in prop:  # optional single component (trainer)
            prop["anyOf"] = [{"$ref": target}, {"type": "null"}]
        else:
            prop.pop("$ref", None)
            prop["$ref"] = target
    return schema


def dumps(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


#: the plugins this repository ships; the committed schema covers exactly these plus the built-ins
PROJECT_PLUGINS = ("kraken", "sb3", "talib", "runpod", "ray")
