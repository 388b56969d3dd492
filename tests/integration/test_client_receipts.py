"""Batched receipt rounds: one addressee that cannot be sealed to never holds up the others."""

from pathlib import Path
from uuid import uuid4

from sqlmodel import Session, col, select

from broker.app import Container
from broker.client.tables import InboxRow, OutboxRow
from broker.directory.model import AgencyStatus
from broker.settings import Settings
from tests.clock import Clock

LA, SCHOOL, HEALTH = "la:330", "school:3304000", "health:M85001"


def test_a_suspended_sender_does_not_hold_up_the_other_receipts(
    tmp_path: Path, clock: Clock
) -> None:
    container = Container(Settings(data_dir=tmp_path), clock=clock)
    for agency in (LA, SCHOOL, HEALTH):
        container.directory_store.add_agency(agency, f"Synthetic {agency}", "330")
    client = container.agency_client(LA, lambda _session, _opened: None)
    with Session(container.engine) as session:
        for sender in (SCHOOL, HEALTH, SCHOOL):
            session.add(
                InboxRow(
                    agency_id=LA,
                    sender=sender,
                    message_id=str(uuid4()),
                    message_type="x",
                    jwe_sha256="A" * 43,
                    received_at=clock(),
                    receipt_due=True,
                    agreement_id="cme-area-330",
                    agreement_version=1,
                )
            )
        session.commit()
    container.directory_store.set_status(HEALTH, AgencyStatus.SUSPENDED)
    assert client.stage_due_receipts() == 2  # the school's two; health's is given up
    with Session(container.engine) as session:
        staged = session.exec(select(OutboxRow).where(OutboxRow.agency_id == LA)).all()
        due = session.exec(select(InboxRow).where(col(InboxRow.receipt_due))).all()
    assert [(r.recipient, r.message_type) for r in staged] == [(SCHOOL, "receipt")]
    assert due == []
    assert client.stage_due_receipts() == 0
