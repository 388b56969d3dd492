"""The message registry: (message type, schema version) -> model, plus version migrations.

A reader that knows version N of a type can take any version the registry can migrate to N;
an unknown type or version is refused with a specific error.
"""

import builtins
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import ValidationError

from schemas.base import WireModel
from schemas.errors import (
    NoMigrationPathError,
    SchemaError,
    UnknownMessageTypeError,
    UnknownSchemaVersionError,
)


class PayloadInvalidError(SchemaError):
    """The payload does not satisfy its model. The message lists fields and rules, not values."""

    reason = "schema_invalid"


@dataclass(frozen=True)
class MessageSpec:
    """One message type at one schema version."""

    type: str
    version: int
    model: builtins.type[WireModel]  # `type` is shadowed by the field above
    special_category: bool = False
    """True when the payload can carry special category data (health, SEN)."""
    sender_field: str | None = None
    """The payload field naming the sending agency: it must equal the envelope's `iss`."""
    recipient_field: str | None = None
    """The payload field naming the receiving agency: it must equal the envelope's `aud`."""


@dataclass(frozen=True)
class Migration:
    """Converts a payload of `type` from one adjacent version to another.

    A downgrade raises `LossyDowngradeError` when the older version cannot carry the data.
    """

    type: str
    source: int
    target: int
    convert: Callable[[Any], WireModel]


def describe_errors(error: ValidationError) -> str:
    """Field locations and rules from a ValidationError, without the offending input values.

    An unexpected member's name is the sender's own text (it could be a child's name), so it
    is never echoed: the location stops at its parent.
    """
    parts = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        loc = [str(p) for p in item["loc"]]
        if item["type"] == "extra_forbidden":
            loc = [*loc[:-1], "(unexpected member)"]
        parts.append(f"{'.'.join(loc) or '(root)'}: {item['msg']}")
    return "; ".join(parts[:10])


class SchemaRegistry:
    """Looks up models by (type, version), validates payloads and migrates between versions."""

    def __init__(self, specs: Iterable[MessageSpec], migrations: Iterable[Migration] = ()) -> None:
        self._specs = {(s.type, s.version): s for s in specs}
        self._migrations = {(m.type, m.source, m.target): m for m in migrations}

    def specs(self) -> list[MessageSpec]:
        """Every registered spec, sorted by type then version."""
        return sorted(self._specs.values(), key=lambda s: (s.type, s.version))

    def types(self) -> list[str]:
        """The registered message types."""
        return sorted({t for t, _ in self._specs})

    def spec(self, message_type: str, version: int) -> MessageSpec:
        """The spec for this type and version, or a specific error for an unknown one."""
        found = self._specs.get((message_type, version))
        if found is not None:
            return found
        if any(t == message_type for t, _ in self._specs):
            raise UnknownSchemaVersionError(f"{message_type} has no schema version {version}")
        raise UnknownMessageTypeError("unknown message type")

    def latest(self, message_type: str) -> int:
        """The newest version of a type."""
        versions = [v for t, v in self._specs if t == message_type]
        if not versions:
            raise UnknownMessageTypeError("unknown message type")
        return max(versions)

    def validate(self, message_type: str, version: int, data: Any) -> WireModel:
        """Validate a JSON-like payload against its model."""
        model = self.spec(message_type, version).model
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise PayloadInvalidError(describe_errors(exc)) from None

    def migrate(self, message_type: str, payload: WireModel, target: int) -> WireModel:
        """Convert a payload to another version, one adjacent step at a time."""
        current = self.version_of(message_type, payload)
        self.spec(message_type, target)
        while current != target:
            step = current + (1 if target > current else -1)
            migration = self._migrations.get((message_type, current, step))
            if migration is None:
                raise NoMigrationPathError(f"{message_type}: no migration v{current}->v{step}")
            payload = migration.convert(payload)
            current = step
        return payload

    def version_of(self, message_type: str, payload: WireModel) -> int:
        """The schema version whose model `payload` is an instance of."""
        self.latest(message_type)  # an unknown type is refused as unknown, not as a bad version
        for (t, v), spec in self._specs.items():
            if t == message_type and type(payload) is spec.model:
                return v
        raise UnknownSchemaVersionError(f"payload is not a registered {message_type} model")


@cache
def default_registry() -> SchemaRegistry:
    """The registry of every message type in the catalogue (built once, on first use)."""
    from schemas.messages import MIGRATIONS, SPECS

    return SchemaRegistry(SPECS, MIGRATIONS)
