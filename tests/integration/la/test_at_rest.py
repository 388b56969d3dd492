"""Encrypted at rest: no name, identifier, postcode or free text is in the database file."""

from pathlib import Path

from sqlalchemy import text

from adapters.la.db import make_engine, migrate_desk
from adapters.la.model import EnquiryState, EnquiryTarget, Priority, Trigger
from adapters.la.protect import Protector
from adapters.la.records import CaseOpening, EnquiryChange, EnquiryDraft
from adapters.la.register import CaseRegister, RegisterConfig
from schemas.case import ClosureOutcome
from schemas.domain import CmeReason
from tests.clock import Clock
from tests.integration.la.children import address, child, nhs_number, upn

NAME = "Zephyrine"
SURNAME = "Quillfeather"
FORMER = "Brackenwhistle"
STREET = "Marrowbone Lane"
POSTCODE = "ZZ99 3QF"
WHY = "Thistledown reported by neighbour"


def test_nothing_personal_is_in_the_database_file(
    tmp_path: Path, protector: Protector, clock: Clock
) -> None:
    path = tmp_path / "desk.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate_desk(engine)
    register = CaseRegister(engine, protector, RegisterConfig(la_code="330"), clock)
    the_upn, the_nhs = upn(7), nhs_number(4242)
    planted = child(
        forenames=NAME,
        surname=SURNAME,
        former_surnames=(FORMER,),
        upn=the_upn,
        nhs_number=the_nhs,
        addresses=(address(f"12 {STREET}", POSTCODE),),
    )
    opening = CaseOpening(
        trigger=Trigger.REFERRAL,
        reason=CmeReason.UNKNOWN,
        priority=Priority.MEDIUM,
        actor="system",
        why=f"{WHY}: {NAME} {SURNAME} seen at {POSTCODE}",
    )
    case_ref = register.open_case(planted, opening)
    enquiry = register.record_enquiry(
        case_ref, EnquiryDraft(target=EnquiryTarget.HEALTH, agency_id="health:M85001"), "system"
    )
    register.update_enquiry(
        enquiry,
        EnquiryChange(state=EnquiryState.ANSWERED, outcome="found", evidence=f"{NAME} at GP"),
        "health:M85001",
    )
    moved = planted.model_copy(
        update={"addresses": (address("1 Other Way", "ZZ99 9ZZ"),), "upn": None, "nhs_number": None}
    )
    queued = register.intake(moved, opening)
    assert queued.duplicate_id is not None  # the candidate is stored (encrypted) in the queue
    register.close_case(
        case_ref, ClosureOutcome.LEFT_ENGLAND, f"{SURNAME} family left", "user:x", WHY
    )
    assert register.show_case(case_ref).child == planted  # it is all there, decryptable

    def raw() -> bytes:
        files = [path, path.with_name(path.name + "-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists()).lower()

    planted_values = (
        NAME,
        SURNAME,
        FORMER,
        STREET,
        POSTCODE,
        POSTCODE.replace(" ", ""),
        the_upn,
        the_nhs,
        WHY,
    )
    before_checkpoint = raw()  # the WAL still holds the newest pages
    with engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    after_checkpoint = raw()
    assert case_ref.lower().encode() in after_checkpoint  # sanity: the rows are in the file
    for content in (before_checkpoint, after_checkpoint):
        for value in planted_values:
            assert value.lower().encode() not in content, "a planted value is in the file"
