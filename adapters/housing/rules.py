"""Housing's answer rules: a unique, confident match (one person, records that agree) in a
current tenancy or temporary accommodation is `found` there; one who moved out without a
forwarding address is `not_found` with the moved-out date; anything else goes to a person,
including a forwarding address (what the household said at move-out, not where the child lives
now). Pure functions (no I/O)."""

from collections.abc import Sequence
from datetime import date
from typing import Final

from adapters.housing.model import TenancyRecord, Tenure
from broker.responder import (
    Answered,
    Finding,
    LocateAnswer,
    LocateResult,
    Referred,
    asks_for_address,
)
from broker.responder.model import (
    CONFLICTING_RECORDS,
    LOCATION_UNCERTAIN,
    NO_MATCH,
    QUESTION_NOT_ANSWERABLE,
    SEVERAL_MATCHES,
)
from schemas.messages.cme import LocateEnquiryV1, LocateOutcome

CURRENT_TENANCY: Final = "current_tenancy"
MOVED_OUT: Final = "moved_out"
CONFIDENTIAL_ADDRESS: Final = "confidential_address"
TEMPORARY_NOTE: Final = "The household is in temporary accommodation arranged by the council."
CONFIDENTIAL_NOTE: Final = (
    "Known to housing. The address is confidential (for example a refuge) and is withheld: "
    "please contact the housing team."
)


def decide(enquiry: LocateEnquiryV1, records: Sequence[TenancyRecord], today: date) -> LocateResult:
    """The answer on one person's agreeing records, or a referral to a person."""
    people = {r.person_id for r in records}
    if not people:
        return Referred(NO_MATCH)
    if len(people) > 1:
        return Referred(SEVERAL_MATCHES)
    if any(r.confidential for r in records):
        withheld = LocateAnswer(
            outcome=LocateOutcome.KNOWN_WITHHELD,
            evidence_date=max(_evidence(r, today) for r in records),
            note=CONFIDENTIAL_NOTE,
        )
        return Answered(withheld, CONFIDENTIAL_ADDRESS, alert=CONFIDENTIAL_ADDRESS)
    if not asks_for_address(enquiry):
        return Referred(QUESTION_NOT_ANSWERABLE)  # an address is all housing can tell
    current = [r for r in records if r.current_on(today)]
    if len(current) > 1:
        return Referred(CONFLICTING_RECORDS)  # two current homes: a person must look
    if current:
        (record,) = current
        note = TEMPORARY_NOTE if record.tenure is Tenure.TEMPORARY_ACCOMMODATION else None
        found = LocateAnswer(
            outcome=LocateOutcome.FOUND,
            evidence_date=_evidence(record, today),
            current_address=record.address,
            note=note,
        )
        return Answered(found, CURRENT_TENANCY)
    return _moved_out(max(records, key=_moved_out_day))


def _moved_out(record: TenancyRecord) -> LocateResult:
    """The last known move. A forwarding address is what the household said at move-out,
    possibly years ago and never confirmed since: not where the child lives now, so a person
    judges it (the LA reads any `found` as the child located). Without one: not found."""
    left = _moved_out_day(record)
    if record.forwarding_address is not None:
        finding = Finding(
            evidence_date=left,
            note=f"Moved out on {left.isoformat()}. This is the forwarding address left with "
            "housing then; housing has not confirmed it since.",
            address=record.forwarding_address,
        )
        return Referred(LOCATION_UNCERTAIN, finding)
    not_found = LocateAnswer(
        outcome=LocateOutcome.NOT_FOUND,
        evidence_date=left,
        note=f"Moved out on {left.isoformat()}; no forwarding address is known.",
    )
    return Answered(not_found, MOVED_OUT)


def _moved_out_day(record: TenancyRecord) -> date:
    assert record.moved_out is not None  # only records no longer current
    return record.moved_out


def _evidence(record: TenancyRecord, today: date) -> date:
    """When the record was last confirmed: its update, else its start, else today."""
    return record.last_updated or record.start_date or today
