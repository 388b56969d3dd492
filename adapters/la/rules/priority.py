"""How urgently the CME team works a case.

The rule, in order:

1. HIGH when any risk flag is set (`timescales.md`: groups at higher risk raise priority), when
   the deletion ground's typical CME risk is "high" in `deletion_grounds.csv` (9(1)(g), (h),
   (i)), or when the reason is `unknown` (the LA knows neither why nor, usually, where).
2. LOW when the child is located and a school place is in train (an application awaiting its
   outcome, an offer not yet accepted, a start date awaited).
3. MEDIUM otherwise.
"""

from collections.abc import Collection
from functools import cache

from adapters.la.model import Priority
from schemas.domain import CmeReason, DeletionGround, RiskFlag
from schemas.reference import deletion_ground_rows

_PLACE_IN_TRAIN = frozenset(
    {CmeReason.APPLICATION_PENDING, CmeReason.OFFER_NOT_ACCEPTED, CmeReason.WAITING_START}
)


@cache
def high_risk_grounds() -> frozenset[DeletionGround]:
    """The reg 9(1) grounds whose typical CME risk is "high" (read from the reference data)."""
    rows = deletion_ground_rows()
    return frozenset(
        DeletionGround(ground) for ground, row in rows.items() if row["typical_cme_risk"] == "high"
    )


def priority(
    reason: CmeReason,
    risk_flags: Collection[RiskFlag],
    *,
    ground: DeletionGround | None = None,
) -> Priority:
    """The priority of a case with this reason, risk flags and (for a deletion return) ground;
    see the module docstring for the rule."""
    if risk_flags or reason is CmeReason.UNKNOWN:
        return Priority.HIGH
    if ground is not None and ground in high_risk_grounds():
        return Priority.HIGH
    if reason in _PLACE_IN_TRAIN:
        return Priority.LOW
    return Priority.MEDIUM
