"""JSON Schema export of every message type and version, so other systems can validate payloads.

The files are deterministic (sorted keys, two-space indent, trailing newline) and committed in
`schemas/json/`; a unit test fails when the models and the committed files drift apart.
"""

import json
from pathlib import Path
from typing import Any, Final

from schemas.registry import MessageSpec, SchemaRegistry, default_registry

JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
SUFFIX: Final = ".schema.json"


def schema_id(message_type: str, version: int) -> str:
    """The `$id` of a message type's schema at a version."""
    return f"urn:cme-broker:schema:{message_type}:v{version}"


def schema_filename(message_type: str, version: int) -> str:
    """`<type>.v<version>.schema.json`."""
    return f"{message_type}.v{version}{SUFFIX}"


def json_schema(spec: MessageSpec) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one spec's payload model."""
    schema = spec.model.model_json_schema(mode="validation")
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["$id"] = schema_id(spec.type, spec.version)
    schema["title"] = f"{spec.type} v{spec.version}"
    schema["x-cme-special-category"] = spec.special_category
    return schema


def render(spec: MessageSpec) -> str:
    """The exact file text for one spec."""
    return json.dumps(json_schema(spec), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _expected(registry: SchemaRegistry | None) -> dict[str, str]:
    specs = (registry or default_registry()).specs()
    return {schema_filename(s.type, s.version): render(s) for s in specs}


def export_json_schemas(out_dir: Path, registry: SchemaRegistry | None = None) -> list[Path]:
    """Write one schema file per type and version into `out_dir`; return the paths, sorted.

    Files for types no longer registered are left alone: `schema_drift` reports them.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in sorted(_expected(registry).items()):
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def schema_drift(out_dir: Path, registry: SchemaRegistry | None = None) -> list[str]:
    """Names of schema files in `out_dir` that differ from the models, are missing or are extra
    (sorted; empty when the directory is up to date).
    """
    expected = _expected(registry)
    present = {p.name: p for p in out_dir.glob(f"*{SUFFIX}")} if out_dir.is_dir() else {}
    drift = {name for name in present if name not in expected}
    for name, text in expected.items():
        path = present.get(name)
        if path is None or path.read_text(encoding="utf-8") != text:
            drift.add(name)
    return sorted(drift)
