"""What children's social care works with: the children known to it and their statutory
status. In-process values, separate from the wire models."""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class KnownChild:
    """A child known to children's social care (one row of its case management records).

    `person_id` is the case management system's own reference: several rows of one child are
    one match, not several."""

    person_id: str
    child_protection_plan: bool = False
    looked_after: bool = False
    last_updated: date | None = None
