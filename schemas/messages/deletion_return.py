"""`school.deletion_return`, versions 1 and 2, and the migrations between them."""

from datetime import date
from typing import Annotated

from pydantic import Field, model_validator

from schemas.agency import AgencyId
from schemas.base import WireModel
from schemas.child import Address, ChildCore, ChildIdentity, LongText, NewSchool, ParentCarer
from schemas.domain import DeletionGround, RiskFlag
from schemas.errors import LossyDowngradeError
from schemas.registry import MessageSpec, Migration

TYPE = "school.deletion_return"


class _DeletionReturnFields(WireModel):
    school: AgencyId
    ground: DeletionGround
    deletion_date: date
    parents: tuple[ParentCarer, ...] = Field(default=(), max_length=4)
    destination_known: bool
    future_address: Address | None = None
    future_address_from: date | None = None
    new_school: NewSchool | None = None
    destination_confirmed: bool | None = None
    """Whether the named new school confirmed the registration (None: not yet checked)."""

    @model_validator(mode="after")
    def _destination_consistent(self) -> "_DeletionReturnFields":
        if not self.school.startswith("school:"):
            raise ValueError("school must be a school:LAESTAB agency id")
        unknown_school = self.new_school is None or self.new_school.school.is_unknown
        if self.destination_known and unknown_school and self.future_address is None:
            raise ValueError("destination_known needs a future address or a named new school")
        if not self.destination_known and self.destination_confirmed:
            raise ValueError("an unknown destination cannot be confirmed")
        return self


class DeletionReturnV1(_DeletionReturnFields):
    """Deletion return, SI 2024/208 reg 13(4)-(6): sent by a school to its LA as soon as a reg
    9(1) ground is met and no later than the deletion (top-year leavers at the end of the year
    are exempt). Under 9(1)(h) or (i) the deletion itself waits for the LA's
    `cme.enquiries_complete`.
    """

    child: ChildCore


class SafeguardingContext(WireModel):
    """What the school knows that raises risk: vulnerable-group flags and known involvement."""

    risk_flags: tuple[RiskFlag, ...] = Field(default=(), max_length=len(RiskFlag))
    known_to_social_care: bool = False
    designated_safeguarding_lead_informed: bool = False
    summary: LongText | None = None


class DeletionReturnV2(_DeletionReturnFields):
    """Deletion return, version 2: as version 1, plus the child's consistent identifier
    (Children Act 2004 s16LC) and the school's safeguarding context.
    """

    child: ChildIdentity
    safeguarding: Annotated[SafeguardingContext | None, Field()] = None


def upgrade_v1_to_v2(old: DeletionReturnV1) -> DeletionReturnV2:
    """Every v1 return is a valid v2 return with no consistent identifier or context."""
    data = old.model_dump()
    return DeletionReturnV2.model_validate(data)


def downgrade_v2_to_v1(new: DeletionReturnV2) -> DeletionReturnV1:
    """Only when nothing would be lost: refuse if v2-only fields carry data."""
    lost = []
    if new.child.consistent_identifier is not None:
        lost.append("child.consistent_identifier")
    if new.safeguarding is not None:
        lost.append("safeguarding")
    if lost:
        raise LossyDowngradeError(f"{TYPE} v2->v1 would lose: {', '.join(lost)}")
    data = new.model_dump(exclude={"safeguarding"})
    data["child"].pop("consistent_identifier")
    return DeletionReturnV1.model_validate(data)


SPECS = (
    MessageSpec(TYPE, 1, DeletionReturnV1, sender_field="school"),
    MessageSpec(TYPE, 2, DeletionReturnV2, sender_field="school"),
)
MIGRATIONS = (
    Migration(TYPE, 1, 2, upgrade_v1_to_v2),
    Migration(TYPE, 2, 1, downgrade_v2_to_v1),
)
