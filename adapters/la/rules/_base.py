"""The base of the rules' immutable values (decisions, plans, evidence)."""

from pydantic import BaseModel, ConfigDict


class RuleValue(BaseModel):
    """Frozen, unknown fields refused, and input never echoed in a validation error (a value
    may hold a child's data, e.g. closure evidence or an address)."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)
