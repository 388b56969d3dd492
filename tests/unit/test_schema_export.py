"""Exported JSON Schemas: the committed files match the models, and each is a sound schema."""

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

import schemas
from schemas.examples import example_payload
from schemas.export import (
    JSON_SCHEMA_DIALECT,
    export_json_schemas,
    schema_drift,
    schema_filename,
    schema_id,
)
from schemas.registry import MessageSpec, default_registry

COMMITTED = Path(schemas.__file__).parent / "json"
SPECS = default_registry().specs()
HAVE_JSONSCHEMA = importlib.util.find_spec("jsonschema") is not None


def spec_id(spec: MessageSpec) -> str:
    return f"{spec.type}.v{spec.version}"


def committed(spec: MessageSpec) -> dict[str, Any]:
    text = (COMMITTED / schema_filename(spec.type, spec.version)).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def test_committed_schemas_match_the_models() -> None:
    """Drift test: after changing a model, run `cme-broker schemas export` and commit the files."""
    assert schema_drift(COMMITTED) == []


def test_a_fresh_export_equals_the_committed_files(tmp_path: Path) -> None:
    written = export_json_schemas(tmp_path)
    assert [p.name for p in written] == sorted(p.name for p in COMMITTED.glob("*.schema.json"))
    for path in written:
        assert path.read_bytes() == (COMMITTED / path.name).read_bytes()


def test_export_is_deterministic_and_drift_is_detected(tmp_path: Path) -> None:
    first = {p.name: p.read_text() for p in export_json_schemas(tmp_path)}
    second = {p.name: p.read_text() for p in export_json_schemas(tmp_path)}
    assert first == second
    assert schema_drift(tmp_path) == []
    changed, missing = sorted(first)[:2]
    (tmp_path / changed).write_text(first[changed].replace('"title"', '"Title"', 1))
    (tmp_path / missing).unlink()
    (tmp_path / "school.retired.v1.schema.json").write_text("{}\n")
    assert schema_drift(tmp_path) == sorted([changed, missing, "school.retired.v1.schema.json"])
    assert schema_drift(tmp_path / "absent") == sorted(first)


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_schema_header(spec: MessageSpec) -> None:
    schema = committed(spec)
    assert schema["$schema"] == JSON_SCHEMA_DIALECT
    assert schema["$id"] == schema_id(spec.type, spec.version)
    assert schema["$id"] == f"urn:cme-broker:schema:{spec.type}:v{spec.version}"
    assert schema["title"] == f"{spec.type} v{spec.version}"
    assert schema["description"]
    assert schema["x-cme-special-category"] is spec.special_category


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


def _objects(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        own = [node] if node.get("type") == "object" else []
        return own + [o for value in node.values() for o in _objects(value)]
    if isinstance(node, list):
        return [o for item in node for o in _objects(item)]
    return []


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_schema_is_structurally_sound(spec: MessageSpec) -> None:
    schema = committed(spec)
    definitions = schema.get("$defs", {})
    for ref in _refs(schema):
        assert ref.startswith("#/$defs/")
        assert ref.removeprefix("#/$defs/") in definitions
    for obj in _objects(schema):
        assert obj["additionalProperties"] is False  # extra="forbid" everywhere
        assert set(obj.get("required", [])) <= set(obj["properties"])
    assert set(schema["properties"]) == set(spec.model.model_fields)


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_example_fits_the_schema_shape(spec: MessageSpec) -> None:
    schema = committed(spec)
    data = example_payload(spec.type, spec.version).model_dump(mode="json")
    assert set(schema["required"]) <= set(data) <= set(schema["properties"])


@pytest.mark.skipif(not HAVE_JSONSCHEMA, reason="jsonschema is not installed")
@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_schema_is_valid_and_accepts_the_example(spec: MessageSpec) -> None:
    import jsonschema  # type: ignore[import-untyped,unused-ignore]

    schema = committed(spec)
    validator = jsonschema.Draft202012Validator
    validator.check_schema(schema)
    data = example_payload(spec.type, spec.version).model_dump(mode="json")
    validator(schema, format_checker=validator.FORMAT_CHECKER).validate(data)
    data["unexpected"] = 1
    assert not validator(schema).is_valid(data)
