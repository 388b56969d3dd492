"""The CME desk driven by real messages through RabbitMQ and the router: a school's deletion
return opens a case, the locate enquiries reach health, housing and social care, health's
answer is filed on the case, and every message is receipted."""

from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import pytest
from sqlmodel import Session, select

from adapters.la.app import build_desk
from adapters.la.desk import CmeDesk
from adapters.la.model import EnquiryState
from adapters.la.records import CaseFilter
from adapters.la.settings import DeskSettings
from broker.agreements import ShareIntent, justify
from broker.client.tables import OutboxRow
from broker.envelope import Draft
from broker.ledger import LedgerEvent
from schemas.base import WireModel
from schemas.domain import DeletionGround
from schemas.messages import cme
from schemas.messages.cme import LocateEnquiryV1
from tests.integration.hub_harness import AREA, HEALTH, HOUSING, LA, SCHOOL, SOCIAL_CARE, Hub
from tests.integration.hub_harness import eventually as eventually_true
from tests.unit.la.desk_builders import deletion_return, locate_response

pytestmark = pytest.mark.rabbitmq
PARTNERS = (SCHOOL, HEALTH, HOUSING, SOCIAL_CARE)


@pytest.fixture
async def hub(tmp_path: Path, rabbitmq_url: str, db_url: str) -> AsyncIterator[tuple[Hub, CmeDesk]]:
    hub = Hub(tmp_path, rabbitmq_url, db_url)
    hub.add_agencies(AREA)
    app = build_desk(hub.container, DeskSettings())
    await hub.start(clients=PARTNERS)
    await app.client.start()
    hub.clients[LA] = app.client
    try:
        yield hub, app.desk
    finally:
        await hub.stop()


def justified(hub: Hub, sender: str, message_type: str, payload: WireModel) -> Draft:
    """A draft to the LA justified from the agreements, as an adapter would send it."""
    intent = ShareIntent(sender, LA, message_type, payload, "test-sender", "Needed for CME.")
    reason = justify(hub.container.agreements, intent, hub.container.clock())
    return Draft(LA, message_type, payload, reason)


async def test_a_deletion_return_through_the_hub_opens_a_case_and_its_enquiries_flow(
    hub: tuple[Hub, CmeDesk],
) -> None:
    harness, desk = hub
    payload = deletion_return(DeletionGround.G)
    sent = harness.clients[SCHOOL].send(
        justified(harness, SCHOOL, "school.deletion_return", payload)
    )

    def enquiries_arrived() -> bool:
        return all(harness.handled_by[a] for a in (HEALTH, HOUSING, SOCIAL_CARE))

    await eventually_true(enquiries_arrived)
    (case,) = desk.register.list_cases(CaseFilter())
    asked = harness.handled_by[HEALTH][0]
    assert isinstance(asked.payload, LocateEnquiryV1)
    assert asked.payload.case_ref == case.case_ref

    answer = locate_response("found").model_copy(
        update={"enquiry_message_id": asked.claims.jti, "case_ref": case.case_ref}
    )
    harness.clients[HEALTH].send(justified(harness, HEALTH, cme.LOCATE_RESPONSE, answer))

    def answered() -> bool:
        filed = {e.agency_id: e for e in desk.register.show_case(case.case_ref).enquiries}
        return filed[HEALTH].state is EnquiryState.ANSWERED

    await eventually_true(answered)

    # The school's return and health's answer were receipted by the desk; the enquiries by
    # their recipients; the hub recorded every route and receipt.
    def receipted(agency: str, message_id: UUID) -> bool:
        with Session(harness.container.engine) as session:
            row = session.exec(
                select(OutboxRow).where(OutboxRow.message_id == str(message_id))
            ).one()
        return row.agency_id == agency and row.receipt_outcome == "accepted"

    await eventually_true(lambda: receipted(SCHOOL, sent.claims.jti))
    await eventually_true(lambda: receipted(LA, asked.claims.jti))
    history = harness.container.ledger(signing=False).history(str(sent.claims.jti))
    assert [e.event for e in history] == [LedgerEvent.ROUTED, LedgerEvent.RECEIPTED]
