"""Encrypted at rest: a waiting enquiry's child (and what the records hold about it) is not in
the database file in clear, and a stored enquiry opens only in its own row."""

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

from adapters.housing.app import build_housing
from adapters.housing.model import TenancyRecord, Tenure
from adapters.housing.settings import HousingSettings
from broker.responder import ItemBinding, WorkItemUndecryptable
from broker.responder.app import build_responder, open_work_list
from broker.responder.records import SubjectKey
from tests.clock import Clock
from tests.integration.responders.world import HEALTH, HOUSING, ResponderWorld
from tests.unit.responders_builders import address, enquiry, nhs_number

FORENAMES = "Zephyrine Ottoline"
SURNAME = "Quillfeather"
FORMER = "Brackenwhistle"
STREET = "Marrowbone Lane"
POSTCODE = "ZZ99 3QF"


def test_nothing_personal_is_in_the_database_file(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "responder.db"
    world = ResponderWorld(tmp_path, f"sqlite:///{path}", clock)
    work = open_work_list(world.container, world.responder_settings)
    responder = build_responder(world.container, HEALTH, work).responder
    nhs = nhs_number(4242)
    planted = enquiry(
        forenames=FORENAMES,
        surname=SURNAME,
        former_surnames=(FORMER,),
        nhs_number=nhs,
        last_known_address=address(f"17 {STREET}", POSTCODE),
    )
    other = enquiry(case_ref="CME-330-OTHER", forenames="Ottilie")
    world.enquire(responder, planted)
    world.enquire(responder, other)
    stored = [
        responder.work.detail(HEALTH, i.item_id).payload for i in responder.work.items(HEALTH)
    ]
    assert sorted(stored, key=str) == sorted([planted, other], key=str)  # kept, and readable
    world.container.engine.dispose()  # close connections; the WAL file stays for reading

    raw = b"".join(p.read_bytes() for p in tmp_path.glob("responder.db*"))
    for secret in (FORENAMES, "Zephyrine", SURNAME, FORMER, STREET, POSTCODE, nhs, "2015-05-01"):
        assert secret.encode() not in raw, secret


def test_a_stored_enquiry_does_not_open_in_another_row(world: ResponderWorld) -> None:
    work = open_work_list(world.container, world.responder_settings)
    responder = build_responder(world.container, HEALTH, work).responder
    world.enquire(responder, enquiry(case_ref="CME-330-A"))
    world.enquire(responder, enquiry(case_ref="CME-330-B"))
    a, b = sorted(responder.work.items(HEALTH), key=lambda i: i.case_ref or "")
    with Session(world.container.engine) as session:
        session.execute(
            text(
                "UPDATE responder_work_item SET payload = "
                "(SELECT payload FROM responder_work_item WHERE id = :a) WHERE id = :b"
            ),
            {"a": a.item_id, "b": b.item_id},
        )
        session.commit()
    assert responder.work.detail(HEALTH, a.item_id).payload == enquiry(case_ref="CME-330-A")
    with pytest.raises(WorkItemUndecryptable):
        responder.work.detail(HEALTH, b.item_id)


class ForwardingOnly:
    """Housing records: the child moved out, leaving a forwarding address."""

    def find(self, child: SubjectKey) -> list[TenancyRecord]:
        forwarding = address(f"8 {STREET}", POSTCODE)
        stay = TenancyRecord("P-1", Tenure.TENANCY, address("1 Old Row", "ZZ99 1OR"),
                             date(2017, 1, 1), date(2019, 3, 1), forwarding)  # fmt: skip
        return [stay]


def test_what_the_records_hold_is_encrypted_too(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "responder.db"
    world = ResponderWorld(tmp_path, f"sqlite:///{path}", clock)
    app = build_housing(
        world.container, HousingSettings(), world.responder_settings, ForwardingOnly()
    )
    world.enquire(app.responder, enquiry())
    (item,) = app.responder.work.items(HOUSING)
    finding = app.responder.work.detail(HOUSING, item.item_id).finding
    assert finding is not None
    assert finding.address == address(f"8 {STREET}", POSTCODE)  # kept, and readable
    world.container.engine.dispose()

    raw = b"".join(p.read_bytes() for p in tmp_path.glob("responder.db*"))
    for secret in (STREET, POSTCODE, "2019-03-01"):
        assert secret.encode() not in raw, secret


def test_an_item_stored_before_findings_existed_still_opens(world: ResponderWorld) -> None:
    """Sealed plaintext format 1 was the message alone."""
    work = open_work_list(world.container, world.responder_settings)
    responder = build_responder(world.container, HEALTH, work).responder
    world.enquire(responder, enquiry())
    (item,) = responder.work.items(HEALTH)
    old_token = world.responder_settings.cipher().seal(
        enquiry().model_dump_json().encode(), ItemBinding(HEALTH, item.item_id)
    )
    with Session(world.container.engine) as session:
        session.execute(
            text("UPDATE responder_work_item SET payload = :p WHERE id = :i"),
            {"p": old_token, "i": item.item_id},
        )
        session.commit()
    detail = responder.work.detail(HEALTH, item.item_id)
    assert (detail.payload, detail.finding) == (enquiry(), None)
