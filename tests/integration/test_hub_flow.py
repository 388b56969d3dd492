"""Messages through the real RabbitMQ and the router: routed, receipted, recorded."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from broker.client.tables import OutboxRow
from broker.ledger import LedgerEvent
from tests.integration.hub_harness import LA, SCHOOL, Hub, eventually


@pytest.fixture
async def hub(tmp_path: Path, rabbitmq_url: str) -> AsyncIterator[Hub]:
    hub = Hub(tmp_path, rabbitmq_url)
    hub.add_agencies()
    await hub.start()
    yield hub
    await hub.stop()


def receipt_of(hub: Hub, message_id: str) -> tuple[str | None, str | None]:
    with Session(hub.container.engine) as session:
        row = session.exec(select(OutboxRow).where(OutboxRow.message_id == message_id)).one()
        return row.receipt_outcome, row.receipt_reason


async def test_deletion_return_is_routed_opened_and_receipted(hub: Hub) -> None:
    sealed = hub.send_example(SCHOOL, LA, "school.deletion_return")
    message_id = str(sealed.claims.jti)
    await eventually(lambda: hub.handled[f"{LA}/{message_id}"] == 1)
    await eventually(lambda: receipt_of(hub, message_id) == ("accepted", None))
    history = hub.container.ledger(signing=False).history(message_id)
    assert [e.event for e in history] == [LedgerEvent.ROUTED, LedgerEvent.RECEIPTED]
    assert history[0].rule and history[0].rule.startswith("cme-area-330@1/")
    assert hub.container.ledger(signing=False).verify(hub.container.snapshot()).ok
