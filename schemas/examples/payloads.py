"""Valid synthetic payloads for every registered message type, with their default parties.

The default parties are in LA 330 (Birmingham); cross-border messages go to `la:331` (Coventry).
"""

import hashlib
import random
from base64 import urlsafe_b64encode
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from schemas.agency import code_of
from schemas.base import WireModel
from schemas.case import ClosureOutcome
from schemas.domain import CmeReason, DeletionGround, RiskFlag
from schemas.examples.synthetic import (
    Data,
    Synth,
    maybe,
    random_uuid,
    some,
    working_days_after,
)
from schemas.messages import cme, deletion_return, receipt, safeguarding, school
from schemas.registry import default_registry

SCHOOL: Final = "school:3304000"
NEW_SCHOOL: Final = "school:3304001"
LA: Final = "la:330"
NEIGHBOUR_LA: Final = "la:331"
HEALTH: Final = "health:M85001"
HOUSING: Final = "housing:330-ta"
SOCIAL_CARE: Final = "social_care:330"


def _year_group(date_of_birth: date, on: date) -> str:
    school_year_start = on.year if on.month >= 9 else on.year - 1
    age_at_31_august = school_year_start - date_of_birth.year - (date_of_birth.month >= 9)
    year = age_at_31_august - 4  # reception: aged 4 on 31 August; year 1: aged 5
    return "R" if year <= 0 else str(min(year, 13))


def _new_pupil_return(s: Synth, version: int) -> Data:
    child = s.child()
    entry = s.today - timedelta(days=s.rng.randint(0, 4))
    return {
        "school": SCHOOL,
        "child": child,
        "entry_date": entry.isoformat(),
        "year_group": _year_group(date.fromisoformat(child["date_of_birth"]), entry),
        "parents": s.parents(child),
        "previous_school": maybe(s.rng, s.school_ref("3302100")),
    }


def _deletion_return(s: Synth, version: int) -> Data:
    child = s.child(identity=version >= 2)
    ground = s.rng.choice((DeletionGround.A, DeletionGround.G, DeletionGround.I))
    data: Data = {
        "school": SCHOOL,
        "child": child,
        "ground": ground.value,
        "deletion_date": s.days_ago(0, 3),
        "parents": s.parents(child),
        "destination_known": ground is not DeletionGround.I,
    }
    if ground is DeletionGround.A:
        start = working_days_after(s.today, 3).isoformat()
        data["new_school"] = {"school": s.school_ref(code_of(NEW_SCHOOL)), "start_date": start}
        data["destination_confirmed"] = s.rng.choice((True, None))
    elif ground is DeletionGround.G:
        data["future_address"] = s.address(town="Coventry")
        data["future_address_from"] = s.days_ago(0, 10)
    if version >= 2 and s.rng.random() < 0.5:
        flags = some(s.rng, RiskFlag, 2, 1)
        data["safeguarding"] = {"risk_flags": flags, "summary": s.sentence()}
    return data


def _non_arrival(s: Synth, version: int) -> Data:
    child = s.child()
    return {
        "school": SCHOOL,
        "child": child,
        "expected_start_date": s.days_ago(3, 10),
        "school_enquiries": s.note(),
        "last_known_address": child["addresses"][0],
    }


def _attendance_return(s: Synth, version: int) -> Data:
    return {
        "school": SCHOOL,
        "child": s.child(),
        "absence_start": s.days_ago(14, 40),
        "school_days_absent": s.rng.randint(10, 25),
        "absence_codes": some(s.rng, ("G", "N", "O", "U"), 4, 1),
        "whereabouts_known": s.rng.random() < 0.5,
    }


def _sickness_return(s: Synth, version: int) -> Data:
    return {
        "school": SCHOOL,
        "child": s.child(),
        "illness_start": s.days_ago(5, 30),
        "expected_school_days": s.rng.randint(15, 60),
    }


def _destination_check(s: Synth, version: int) -> Data:
    expected = working_days_after(s.today, s.rng.randint(1, 10)).isoformat()
    return {
        "from_school": SCHOOL,
        "to_school": NEW_SCHOOL,
        "child": s.pupil(s.child()),
        "expected_start_date": maybe(s.rng, expected),
    }


def _destination_confirmation(s: Synth, version: int) -> Data:
    status = s.rng.choice(list(school.RegistrationStatus))
    registered = status is school.RegistrationStatus.REGISTERED
    return {
        "check_message_id": random_uuid(s.rng),
        "status": status.value,
        "start_date": s.days_ago(0, 5) if registered else None,
    }


def _referral(s: Synth, version: int) -> Data:
    child = s.child()
    return {
        "referrer": example_sender_recipient(cme.REFERRAL)[0],
        "child": child,
        "reason": s.rng.choice(list(CmeReason)).value,
        "risk_flags": some(s.rng, RiskFlag, 2),
        "last_known_address": maybe(s.rng, child["addresses"][0]),
        "last_seen": maybe(s.rng, s.days_ago(10, 30)),
        "details": s.note(),
    }


def _locate_enquiry(s: Synth, version: int) -> Data:
    child = s.child()
    flags = some(s.rng, RiskFlag, 2)
    subject = {key: child[key] for key in ("forenames", "surname", "date_of_birth", "sex")}
    subject["nhs_number"] = child["nhs_number"]  # no UPN: the default respondent is health
    subject["last_known_address"] = child["addresses"][0]
    return {
        "case_ref": s.case_ref(),
        "child": subject,
        "reason": s.rng.choice(list(CmeReason)).value,
        "risk_flags": flags,
        "respond_by": working_days_after(s.today, 2 if flags else 5).isoformat(),
        "questions": some(s.rng, cme.LocateQuestion, len(cme.LocateQuestion), 1),
    }


def _locate_response(s: Synth, version: int) -> Data:
    outcome = s.rng.choice(list(cme.LocateOutcome))
    data: Data = {
        "enquiry_message_id": random_uuid(s.rng),
        "case_ref": s.case_ref(),
        "outcome": outcome.value,
        "evidence_date": s.days_ago(0, 120),
        "refer_to_social_care": s.rng.random() < 0.2,
        "note": s.note(),
    }
    if outcome is cme.LocateOutcome.FOUND:
        data["registered_gp"] = "M85002"
        data["current_address"] = maybe(s.rng, s.address())
    return data


def _cross_border_notification(s: Synth, version: int) -> Data:
    sender, recipient = example_sender_recipient(cme.CROSS_BORDER_NOTIFICATION)
    return {
        "case_ref": s.case_ref(),
        "from_la": sender,
        "to_la": recipient,
        "child": s.child(),
        "believed_address": maybe(s.rng, s.address(town="Coventry")),
        "reason": CmeReason.MOVED_OTHER_LA.value,
        "risk_flags": some(s.rng, RiskFlag, 2),
        "evidence": "Housing record shows a tenancy in the receiving area.",
        "respond_by": working_days_after(s.today, 10).isoformat(),
    }


def _cross_border_confirmation(s: Synth, version: int) -> Data:
    outcome = s.rng.choice(list(cme.CrossBorderOutcome))
    on_roll = outcome is cme.CrossBorderOutcome.ON_ROLL
    return {
        "notification_message_id": random_uuid(s.rng),
        "case_ref": s.case_ref(),
        "outcome": outcome.value,
        "accepts_responsibility": outcome.child_is_here and s.rng.random() < 0.8,
        "school": s.school_ref("3314012") if on_roll else None,
        "note": s.note(),
    }


def _enquiries_complete(s: Synth, version: int) -> Data:
    result = s.rng.choice(list(cme.EnquiriesResult))
    exhausted = result is cme.EnquiriesResult.ENQUIRIES_EXHAUSTED
    ground = s.rng.choice((DeletionGround.H, DeletionGround.I)).value
    return {
        "school": SCHOOL,
        "case_ref": s.case_ref(),
        "child": s.pupil(s.child()),
        "result": result.value,
        "completed_on": s.days_ago(0, 2),
        "deletion_ground": ground if exhausted else None,
    }


def _case_status(s: Synth, version: int) -> Data:
    status = s.rng.choice(list(cme.CaseStatus))
    closed = status is cme.CaseStatus.CLOSED
    return {
        "case_ref": s.case_ref(),
        "status": status.value,
        "in_reply_to": maybe(s.rng, random_uuid(s.rng)),
        "outcome": s.rng.choice(list(ClosureOutcome)).value if closed else None,
        "note": s.note(),
    }


def _escalation(s: Synth, version: int) -> Data:
    flags = some(s.rng, RiskFlag, 3, 1)
    same_day = any(flag.needs_same_day_escalation for flag in flags) or s.rng.random() < 0.5
    return {
        "from_agency": example_sender_recipient(safeguarding.ESCALATION)[0],
        "child": s.child(),
        "risk_flags": [flag.value for flag in flags],
        "reason": "Child with open safeguarding concerns not seen at school or home.",
        "case_ref": maybe(s.rng, s.case_ref()),
        "missing_since": maybe(s.rng, s.days_ago(1, 10)),
        "same_day_required": same_day,
    }


def _receipt(s: Synth, version: int) -> Data:
    if version == 1:
        return _receipt_entry(s, may_refuse=True)
    return {"receipts": [_receipt_entry(s) for _ in range(s.rng.randint(1, 3))]}


def _receipt_entry(s: Synth, may_refuse: bool = False) -> Data:
    digest = hashlib.sha256(s.rng.randbytes(32)).digest()
    rejected = may_refuse and s.rng.random() < 0.2
    received = datetime.combine(s.today, time(9, s.rng.randrange(60)), tzinfo=UTC)
    return {
        "message_id": random_uuid(s.rng),
        "jwe_sha256": urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"),
        "received_at": received.isoformat(),
        "outcome": "rejected" if rejected else "accepted",
        "reason_code": "decrypt_failed" if rejected else None,
    }


_BUILDERS: dict[str, Callable[[Synth, int], Data]] = {
    school.NEW_PUPIL_RETURN: _new_pupil_return,
    deletion_return.TYPE: _deletion_return,
    school.NON_ARRIVAL: _non_arrival,
    school.ATTENDANCE_RETURN: _attendance_return,
    school.SICKNESS_RETURN: _sickness_return,
    school.DESTINATION_CHECK: _destination_check,
    school.DESTINATION_CONFIRMATION: _destination_confirmation,
    cme.REFERRAL: _referral,
    cme.LOCATE_ENQUIRY: _locate_enquiry,
    cme.LOCATE_RESPONSE: _locate_response,
    cme.CROSS_BORDER_NOTIFICATION: _cross_border_notification,
    cme.CROSS_BORDER_CONFIRMATION: _cross_border_confirmation,
    cme.ENQUIRIES_COMPLETE: _enquiries_complete,
    cme.CASE_STATUS: _case_status,
    safeguarding.ESCALATION: _escalation,
    receipt.TYPE: _receipt,
}

_PARTIES: dict[str, tuple[str, str]] = {
    school.NEW_PUPIL_RETURN: (SCHOOL, LA),
    deletion_return.TYPE: (SCHOOL, LA),
    school.NON_ARRIVAL: (SCHOOL, LA),
    school.ATTENDANCE_RETURN: (SCHOOL, LA),
    school.SICKNESS_RETURN: (SCHOOL, LA),
    school.DESTINATION_CHECK: (SCHOOL, NEW_SCHOOL),
    school.DESTINATION_CONFIRMATION: (NEW_SCHOOL, SCHOOL),
    cme.REFERRAL: (SCHOOL, LA),
    cme.LOCATE_ENQUIRY: (LA, HEALTH),
    cme.LOCATE_RESPONSE: (HEALTH, LA),
    cme.CROSS_BORDER_NOTIFICATION: (LA, NEIGHBOUR_LA),
    cme.CROSS_BORDER_CONFIRMATION: (NEIGHBOUR_LA, LA),
    cme.ENQUIRIES_COMPLETE: (LA, SCHOOL),
    cme.CASE_STATUS: (LA, SCHOOL),
    safeguarding.ESCALATION: (LA, SOCIAL_CARE),
    receipt.TYPE: (LA, SCHOOL),
}


def example_payload(
    message_type: str,
    version: int | None = None,
    *,
    rng: random.Random | None = None,
    today: date | None = None,
    sender: str | None = None,
    recipient: str | None = None,
) -> WireModel:
    """A valid synthetic payload of `message_type` (latest version unless given).

    Without `rng` the result is the same on every call for a given type, version and day; pass
    a seeded `random.Random` for variety (optional fields, enum choices, names and dates vary).
    `sender` / `recipient` replace the default parties in the payload fields that name them
    (they must match the envelope). Raises `UnknownMessageTypeError` /
    `UnknownSchemaVersionError` like the registry.
    """
    registry = default_registry()
    version = registry.latest(message_type) if version is None else version
    spec = registry.spec(message_type, version)
    builder = _BUILDERS.get(message_type)
    if builder is None:
        raise NotImplementedError(f"no example builder for {message_type}")
    seeded = random.Random(f"{message_type}:v{version}")  # noqa: S311  synthetic data, not secrets
    synth = Synth(rng or seeded, today or date.today())
    data = builder(synth, version)
    for field, party in ((spec.sender_field, sender), (spec.recipient_field, recipient)):
        if field and party:
            data[field] = party
    return registry.validate(message_type, version, data)


def example_sender_recipient(message_type: str) -> tuple[str, str]:
    """The default (sender, recipient) agency ids of a message type, consistent with the
    parties named inside `example_payload`.
    """
    default_registry().latest(message_type)  # refuses an unknown type
    return _PARTIES[message_type]
