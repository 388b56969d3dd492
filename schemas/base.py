"""Base class of every wire model, and validators shared by many of them."""

from typing import Any, Final

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema


class WireModel(BaseModel):
    """Frozen, strict-shape base for wire contracts: unknown fields are refused, never kept."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        str_strip_whitespace=True,
        hide_input_in_errors=True,  # a validation error must never carry a child's data
        use_attribute_docstrings=True,  # field docstrings become JSON Schema descriptions
    )


def _distinct(items: tuple[Any, ...]) -> tuple[Any, ...]:
    if len(set(items)) != len(items):
        raise ValueError("items must not repeat")
    return items


class _Distinct:
    """`Annotated` marker for a tuple whose items must not repeat (`uniqueItems` in JSON Schema)."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(_distinct, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["uniqueItems"] = True
        return json_schema


DISTINCT: Final = _Distinct()
"""Use as `Annotated[tuple[X, ...], DISTINCT]`: refuses a repeated item."""
