"""Health's answer rules: only a single unique match counts, a restricted record is never
located, `found` only when the record holds a current address (a GP registration alone goes to
a person), and the answer discloses the minimum the enquiry's questions allow.

Pure functions (no I/O): the source searches, these decide.
"""

from collections.abc import Sequence
from datetime import date
from typing import Final

from adapters.health.model import PatientQuery, PatientRecord
from broker.responder import (
    Answered,
    Finding,
    LocateAnswer,
    LocateResult,
    Referred,
    asks_for_address,
)
from broker.responder.model import (
    LOCATION_UNCERTAIN,
    NO_MATCH,
    NOTHING_TO_DISCLOSE,
    SEVERAL_MATCHES,
)
from schemas.messages.cme import LocateEnquiryV1, LocateOutcome, LocateSubject

UNIQUE_MATCH: Final = "unique_match"
RESTRICTED_RECORD: Final = "restricted_record"
NO_CONFIDENT_MATCH: Final = "no_confident_match"
UNIDENTIFIED_RECORD: Final = "unidentified_record"
NO_ADDRESS_GP_NOTE: Final = (
    "Registered with this GP practice, but the NHS record holds no current address: the "
    "registration alone does not say where the child lives now."
)
NO_ADDRESS_NOTE: Final = "The NHS record holds no current address and no current GP practice."
RESTRICTED_NOTE: Final = (
    "The child's NHS record is restricted: where the child lives and the GP practice are "
    "withheld. Please contact children's social care, who can make enquiries with the NHS."
)


def queries_for(subject: LocateSubject) -> list[PatientQuery]:
    """The searches to try, in order: the current surname, then each former surname. The first
    forename only: PDS matches on it, and a second forename is often missing from records."""
    given = subject.forenames.split()[0]
    return [
        PatientQuery(family, given, subject.date_of_birth, subject.nhs_number)
        for family in (subject.surname, *subject.former_surnames)
    ]


def conflicts(patient: PatientRecord, subject: LocateSubject) -> bool:
    """The source returned someone the enquiry rules out (another date of birth or NHS
    number): a fuzzy search must not become a match."""
    if patient.birth_date is not None and patient.birth_date != subject.date_of_birth:
        return True
    return bool(
        subject.nhs_number and patient.nhs_number and patient.nhs_number != subject.nhs_number
    )


def possible_matches(
    patients: Sequence[PatientRecord], subject: LocateSubject
) -> list[PatientRecord]:
    """The returned patients the enquiry does not rule out, each once. Only records with an id
    are merged (the same id twice is one patient); records without one are all kept, so two of
    them are two matches, never one."""
    keyed: dict[str, PatientRecord] = {}
    unkeyed: list[PatientRecord] = []
    for patient in patients:
        if conflicts(patient, subject):
            continue
        if patient.key:
            keyed.setdefault(patient.key, patient)
        else:
            unkeyed.append(patient)
    return [*keyed.values(), *unkeyed]


def decide(enquiry: LocateEnquiryV1, matches: Sequence[PatientRecord], today: date) -> LocateResult:
    """The answer on a single unique match, or a referral to a person."""
    if not matches:
        return Referred(NO_MATCH)
    if len(matches) > 1:
        return Referred(SEVERAL_MATCHES)
    (patient,) = matches
    if not patient.key:
        return Referred(UNIDENTIFIED_RECORD)  # cannot be told apart from another patient
    if patient.birth_date != enquiry.child.date_of_birth:
        return Referred(NO_CONFIDENT_MATCH)  # the source could not confirm the date of birth
    evidence = patient.last_updated or today
    if patient.restricted:
        withheld = LocateAnswer(
            outcome=LocateOutcome.KNOWN_WITHHELD,
            evidence_date=evidence,
            refer_to_social_care=True,
            note=RESTRICTED_NOTE,
        )
        # Answered at once (the LA must not wait), and put before a person as well: the
        # health team's safeguarding lead may need to liaise with social care.
        return Answered(withheld, RESTRICTED_RECORD, alert=RESTRICTED_RECORD)
    if patient.address is None:
        # A GP registration alone does not say where the child lives (a family can move away
        # and stay registered for months), yet the LA reads any `found` as located.
        return Referred(LOCATION_UNCERTAIN, _no_address_finding(patient, evidence))
    address = patient.address if asks_for_address(enquiry) else None
    if patient.gp_practice is None and address is None:
        return Referred(NOTHING_TO_DISCLOSE)
    found = LocateAnswer(
        outcome=LocateOutcome.FOUND,
        evidence_date=evidence,
        current_address=address,
        registered_gp=patient.gp_practice,
    )
    return Answered(found, UNIQUE_MATCH)


def _no_address_finding(patient: PatientRecord, evidence: date) -> Finding:
    """What the person judging a match without a current address sees."""
    note = NO_ADDRESS_GP_NOTE if patient.gp_practice else NO_ADDRESS_NOTE
    return Finding(evidence_date=evidence, note=note, registered_gp=patient.gp_practice)
