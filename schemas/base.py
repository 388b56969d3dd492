"""Base class of every wire model."""

from pydantic import BaseModel, ConfigDict


class WireModel(BaseModel):
    """Frozen, strict-shape base for wire contracts: unknown fields are refused, never kept."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
