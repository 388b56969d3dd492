"""Realistic sharing justifications per flow (`shared/domain/legal_bases.md`, "Typical bases by
flow"), for the example payloads.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from schemas.agency import AgencyKind, check_agency_id, code_of, kind_of
from schemas.justification import (
    AgreementRef,
    Consent,
    ConsentStatus,
    Justification,
    LawfulBasis,
    Purpose,
    Retention,
    SpecialCategoryCondition,
)
from schemas.messages import cme, deletion_return, receipt, safeguarding, school
from schemas.registry import default_registry


@dataclass(frozen=True)
class _Flow:
    purpose: Purpose
    basis: LawfulBasis
    gateways: tuple[str, ...]
    necessity: str
    retention: str


_STATUTORY_RETURN = _Flow(
    Purpose.STATUTORY_RETURN,
    LawfulBasis.LEGAL_OBLIGATION,
    ("SI 2024/208 reg 13",),
    "The school must make this return to its LA; the content is what the regulation lists.",
    "LA CME record: kept while the child is of compulsory school age, then reviewed.",
)
_LA_ENQUIRY_GATEWAYS = (
    "Education Act 1996 s436A",
    "Children Act 2004 s10",
    "Children Act 2004 s11",
)
_CASE_RETENTION = "CME case record: kept until the case closes plus 6 years, then reviewed."
_FLOWS: dict[str, _Flow] = {
    school.NEW_PUPIL_RETURN: _STATUTORY_RETURN,
    deletion_return.TYPE: _STATUTORY_RETURN,
    school.ATTENDANCE_RETURN: _STATUTORY_RETURN,
    school.SICKNESS_RETURN: _STATUTORY_RETURN,
    school.NON_ARRIVAL: _Flow(
        Purpose.STATUTORY_RETURN,
        LawfulBasis.PUBLIC_TASK,
        ("Education Act 1996 s436A", "Education Act 2002 s175"),
        "The LA needs to know at once that a child did not start school, to identify CME.",
        _CASE_RETENTION,
    ),
    school.DESTINATION_CHECK: _Flow(
        Purpose.DESTINATION_CHECK,
        LawfulBasis.PUBLIC_TASK,
        ("SI 2024/208 reg 9", "Education Act 2002 s175"),
        "Confirming the new registration before deletion; only what matches the pupil is sent.",
        "Kept with the leaver's admission register entry.",
    ),
    school.DESTINATION_CONFIRMATION: _Flow(
        Purpose.RESPONSE_TO_ENQUIRY,
        LawfulBasis.PUBLIC_TASK,
        ("SI 2024/208 reg 9", "Education Act 2002 s175"),
        "The former school may delete the name only when the new registration is confirmed.",
        "Kept with the leaver's admission register entry.",
    ),
    cme.REFERRAL: _Flow(
        Purpose.REFERRAL,
        LawfulBasis.PUBLIC_TASK,
        ("Education Act 1996 s436A", "Children Act 2004 s11"),
        "The LA must identify children missing education; the referrer's concern starts that.",
        _CASE_RETENTION,
    ),
    cme.LOCATE_ENQUIRY: _Flow(
        Purpose.LOCATE_ENQUIRY,
        LawfulBasis.PUBLIC_TASK,
        _LA_ENQUIRY_GATEWAYS,
        "Only the details the respondent needs to find the child in its records are sent.",
        "Respondent deletes the enquiry once answered, keeping an audit entry.",
    ),
    cme.LOCATE_RESPONSE: _Flow(
        Purpose.RESPONSE_TO_ENQUIRY,
        LawfulBasis.PUBLIC_TASK,
        ("Children Act 2004 s11",),
        "A minimal answer lets the LA locate the child; nothing beyond the questions is sent.",
        _CASE_RETENTION,
    ),
    cme.CROSS_BORDER_NOTIFICATION: _Flow(
        Purpose.CROSS_BORDER_NOTIFICATION,
        LawfulBasis.PUBLIC_TASK,
        _LA_ENQUIRY_GATEWAYS,
        "The receiving LA must confirm the child's education where the child now lives.",
        _CASE_RETENTION,
    ),
    cme.CROSS_BORDER_CONFIRMATION: _Flow(
        Purpose.CROSS_BORDER_CONFIRMATION,
        LawfulBasis.PUBLIC_TASK,
        ("Education Act 1996 s436A",),
        "The sending LA can close or continue its case only with the receiving LA's outcome.",
        _CASE_RETENTION,
    ),
    cme.ENQUIRIES_COMPLETE: _Flow(
        Purpose.ENQUIRIES_COMPLETE,
        LawfulBasis.PUBLIC_TASK,
        ("SI 2024/208 reg 9", "Education Act 1996 s436A"),
        "The school may delete under reg 9(1)(h)/(i) only after joint enquiries are complete.",
        "Kept with the leaver's admission register entry.",
    ),
    cme.CASE_STATUS: _Flow(
        Purpose.CASE_STATUS_UPDATE,
        LawfulBasis.PUBLIC_TASK,
        ("Education Act 1996 s436A",),
        "The referrer needs to know the case outcome; only the case reference identifies it.",
        "Kept with the referrer's record of the referral.",
    ),
    safeguarding.ESCALATION: _Flow(
        Purpose.SAFEGUARDING_ESCALATION,
        LawfulBasis.PUBLIC_TASK,
        ("Children Act 1989 s17", "Children Act 1989 s47", "Children Act 2004 s11"),
        "A child at risk is missing from education; social care must assess the same day.",
        "Social care record: kept under the children's social care retention schedule.",
    ),
    receipt.TYPE: _Flow(
        Purpose.DELIVERY_RECEIPT,
        LawfulBasis.PUBLIC_TASK,
        ("UK GDPR Art 5(2)",),
        "Proof of delivery for accountability; the receipt holds no personal data.",
        "Kept with the ledger entry of the receipted message.",
    ),
}
_ROLES: dict[AgencyKind, str] = {
    AgencyKind.SCHOOL: "attendance_lead",
    AgencyKind.LA: "cme_officer",
    AgencyKind.HEALTH: "safeguarding_named_nurse",
    AgencyKind.HOUSING: "housing_options_officer",
    AgencyKind.SOCIAL_CARE: "mash_practitioner",
    AgencyKind.POLICE: "missing_persons_coordinator",
    AgencyKind.EARLY_YEARS: "early_years_manager",
    AgencyKind.HUB: "hub_service",
}


def _area(agency_id: str) -> str | None:
    """The DfE LA code an agency belongs to, where its id says so."""
    kind, code = kind_of(agency_id), code_of(agency_id)
    if kind in (AgencyKind.LA, AgencyKind.SOCIAL_CARE, AgencyKind.HUB):
        return code
    if kind is AgencyKind.SCHOOL or (kind is AgencyKind.HOUSING and code[3:4] == "-"):
        return code[:3]
    return None


def _agreement(sender: str, recipient: str) -> AgreementRef:
    areas = sorted({a for a in (_area(sender), _area(recipient)) if a is not None} or {"330"})
    name = f"cme-area-{areas[0]}" if len(areas) == 1 else f"cme-cross-border-{'-'.join(areas)}"
    return AgreementRef(id=name, version=1)


def example_justification(message_type: str, *, sender: str, recipient: str) -> Justification:
    """A realistic justification for sending `message_type` from `sender` to `recipient`,
    following the typical bases by flow (`shared/domain/legal_bases.md`). A new decision id and
    the current time on every call.
    """
    check_agency_id(sender)
    check_agency_id(recipient)
    spec = default_registry().spec(message_type, default_registry().latest(message_type))
    flow = _FLOWS[message_type]
    basis = flow.basis
    if basis is LawfulBasis.PUBLIC_TASK and _is_non_public(sender):
        basis = LawfulBasis.RECOGNISED_LEGITIMATE_INTEREST
    safeguarding_share = flow.purpose is Purpose.SAFEGUARDING_ESCALATION
    consent_reason = (
        "Seeking consent could place the child at greater risk."
        if safeguarding_share
        else "Consent is not the lawful basis: the share is required or a public task."
    )
    now = datetime.now(UTC)
    return Justification(
        decision_id=uuid4(),
        decided_at=now,
        decided_by_role=_ROLES[kind_of(sender)],
        purpose=flow.purpose,
        lawful_basis=basis,
        special_category=SpecialCategoryCondition.SAFEGUARDING if spec.special_category else None,
        statutory_gateways=flow.gateways,
        agreement=_agreement(sender, recipient),
        data_categories=tuple(sorted(spec.model.model_fields)),
        necessity=flow.necessity,
        consent=Consent(status=ConsentStatus.NOT_SOUGHT, reason=consent_reason),
        retention=Retention(rule=flow.retention, review_date=now.date() + timedelta(days=365)),
    )


def _is_non_public(agency_id: str) -> bool:
    """A registered housing provider (not an LA's own housing service) is not a public body."""
    return kind_of(agency_id) is AgencyKind.HOUSING and _area(agency_id) is None
