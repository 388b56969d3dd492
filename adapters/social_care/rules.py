"""Social care's answer rules: the minimum, namely known or not, and whether a child protection
plan or looked-after status applies. Never where the child lives: a person decides that.

`cme.locate_response` has no field for the statutory status, so it travels in `note` as fixed
wording (the LA can match it exactly); `refer_to_social_care` is set when either applies, so
the LA makes its same-day escalation to the front door. Pure functions (no I/O).
"""

from collections.abc import Sequence
from datetime import date
from typing import Final

from adapters.social_care.model import KnownChild
from broker.responder import Answered, LocateAnswer, LocateResult, Referred
from broker.responder.model import NO_MATCH, SEVERAL_MATCHES
from schemas.messages.cme import LocateEnquiryV1, LocateOutcome

KNOWN: Final = "known_to_social_care"
STATUTORY_STATUS: Final = "child_protection_or_looked_after"
_CONTACT: Final = " Please contact the children's social care front door for anything further."
NOTE_KNOWN: Final = (
    "Known to children's social care. No child protection plan or looked-after status applies."
    + _CONTACT
)
NOTE_CP_PLAN: Final = "Known to children's social care. A child protection plan applies." + _CONTACT
NOTE_LOOKED_AFTER: Final = (
    "Known to children's social care. The child is looked after by a local authority." + _CONTACT
)
NOTE_CP_PLAN_AND_LOOKED_AFTER: Final = (
    "Known to children's social care. A child protection plan applies and the child is looked "
    "after by a local authority." + _CONTACT
)


def status_note(child_protection_plan: bool, looked_after: bool) -> str:
    """The fixed wording for the child's statutory status."""
    if child_protection_plan and looked_after:
        return NOTE_CP_PLAN_AND_LOOKED_AFTER
    if child_protection_plan:
        return NOTE_CP_PLAN
    return NOTE_LOOKED_AFTER if looked_after else NOTE_KNOWN


def decide(enquiry: LocateEnquiryV1, records: Sequence[KnownChild], today: date) -> LocateResult:
    """Known (with its status) on one child's records; a referral to a person otherwise."""
    children = {r.person_id for r in records}
    if not children:
        return Referred(NO_MATCH)
    if len(children) > 1:
        return Referred(SEVERAL_MATCHES)
    cp_plan = any(r.child_protection_plan for r in records)
    looked_after = any(r.looked_after for r in records)
    updated = [r.last_updated for r in records if r.last_updated is not None]
    known = LocateAnswer(
        # "Known, location withheld": the schema's only outcome that says known without
        # giving an address, GP or school.
        outcome=LocateOutcome.KNOWN_WITHHELD,
        evidence_date=max(updated) if updated else today,
        refer_to_social_care=cp_plan or looked_after,
        note=status_note(cp_plan, looked_after),
    )
    # A child with a plan or in care is missing education: the front door sees it today.
    alert = STATUTORY_STATUS if cp_plan or looked_after else None
    return Answered(known, KNOWN, alert=alert)
