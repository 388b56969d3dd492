"""The contract every adapter keeps, checked through the real hub: its own keys (a message to
it opens with its keys only), a receipt for what it accepts, a redelivered or replayed copy
processed once, and a refusal (with a refusal receipt) for what it cannot accept, after which
it carries on."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import aio_pika
import pytest
from sqlmodel import Session, col, select

from adapters.health.app import build_health
from adapters.health.csv_index import CsvPatientIndex
from adapters.health.settings import HealthSettings
from adapters.housing.app import build_housing
from adapters.housing.settings import HousingSettings
from adapters.la.app import build_desk
from adapters.la.settings import DeskSettings
from adapters.school.app import build_school
from adapters.school.settings import SchoolSettings
from adapters.social_care.app import build_social_care
from adapters.social_care.settings import SocialCareSettings
from broker import errors
from broker.agreements import ShareIntent, justify
from broker.app import Container
from broker.client.agency import AgencyClient
from broker.client.tables import InboxRow
from broker.envelope import Draft, Sealed
from broker.responder import ResponderSettings
from broker.transport.publish import Publisher
from schemas.examples import example_justification, example_payload
from tests.integration.hub_harness import (
    AREA,
    HEALTH,
    HOUSING,
    LA,
    SCHOOL,
    SOCIAL_CARE,
    Hub,
    eventually,
    publish_raw,
    receipt_of,
)

pytestmark = pytest.mark.rabbitmq


@dataclass(frozen=True)
class Adapter:
    """An adapter under test: its agency, how to build its client, and a message it takes."""

    name: str
    agency: str
    build: Callable[[Container], AgencyClient]
    sender: str
    message_type: str


ADAPTERS = [
    Adapter("school", SCHOOL, lambda c: build_school(c, SchoolSettings(), SCHOOL).client, LA,
            "cme.case_status"),
    Adapter("la-desk", LA, lambda c: build_desk(c, DeskSettings()).client, SCHOOL,
            "school.non_arrival"),
    Adapter("health", HEALTH, lambda c: build_health(
        c, HealthSettings(agency_id=HEALTH), ResponderSettings(), CsvPatientIndex([])).client,
        LA, "cme.locate_enquiry"),
    Adapter("housing", HOUSING, lambda c: build_housing(
        c, HousingSettings(agency_id=HOUSING), ResponderSettings()).client,
        LA, "cme.locate_enquiry"),
    Adapter("social-care", SOCIAL_CARE, lambda c: build_social_care(
        c, SocialCareSettings(agency_id=SOCIAL_CARE), ResponderSettings()).app.client,
        LA, "safeguarding.escalation"),
]  # fmt: skip


@pytest.fixture(params=ADAPTERS, ids=lambda a: a.name)
async def running(
    request: pytest.FixtureRequest, tmp_path: Path, rabbitmq_url: str
) -> AsyncIterator[tuple[Hub, Adapter, AgencyClient]]:
    adapter: Adapter = request.param
    hub = Hub(tmp_path, rabbitmq_url)
    hub.add_agencies(AREA)
    await hub.start(clients=[a for a in AREA if a != adapter.agency])
    client = adapter.build(hub.container)
    await client.start()
    hub.clients[adapter.agency] = client
    try:
        yield hub, adapter, client
    finally:
        await hub.stop()


def sealed_for(hub: Hub, adapter: Adapter) -> Sealed:
    sender, recipient = adapter.sender, adapter.agency
    payload = example_payload(adapter.message_type, sender=sender, recipient=recipient)
    intent = ShareIntent(sender, recipient, adapter.message_type, payload, "test", "Contract.")
    reason = justify(hub.container.agreements, intent, hub.container.clock())
    return hub.container.sealer(sender).seal(
        Draft(recipient, adapter.message_type, payload, reason)
    )


def inbox_count(hub: Hub, agency: str) -> int:
    with Session(hub.container.engine) as session:
        query = select(InboxRow).where(InboxRow.agency_id == agency, col(InboxRow.sender) != "-")
        return len([r for r in session.exec(query) if r.message_type != "receipt"])


async def test_keys_receipts_once_and_refusals(running: tuple[Hub, Adapter, AgencyClient]) -> None:
    hub, adapter, client = running
    message = sealed_for(hub, adapter)
    # Its own keys: the message opens with the adapter's keys and with nobody else's.
    other = next(a for a in AREA if a not in (adapter.agency, adapter.sender))
    with pytest.raises(errors.EnvelopeError):
        hub.container.opener(other).open(message.to_json())
    jti = str(message.claims.jti)
    body = message.to_json().encode()
    await publish_raw(hub, adapter.sender, body, message_id=jti)  # records it to be receipted
    await publish_raw(hub, adapter.sender, body)  # a redelivered / replayed copy
    await eventually(lambda: receipt_of(hub, jti) == ("accepted", None))
    await eventually(lambda: client.stats["duplicate"] >= 1)  # the second copy changed nothing
    assert inbox_count(hub, adapter.agency) == 1
    # Refusal: a message sealed to another agency but put on this adapter's queue.
    message_type = "school.non_arrival"
    payload = example_payload(message_type)
    target = other_than(adapter)
    reason = example_justification(message_type, sender=SCHOOL, recipient=target)
    stray = hub.container.sealer(SCHOOL).seal(Draft(target, message_type, payload, reason))
    await _deliver_directly(hub, adapter.agency, stray)
    await eventually(lambda: client.stats["refused"] == 1)
    # It carries on: the next good message is accepted.
    after = sealed_for(hub, adapter)
    await publish_raw(
        hub, adapter.sender, after.to_json().encode(), message_id=str(after.claims.jti)
    )
    await eventually(lambda: receipt_of(hub, str(after.claims.jti)) == ("accepted", None))
    assert inbox_count(hub, adapter.agency) == 2


def other_than(adapter: Adapter) -> str:
    """An agency that is not the adapter."""
    return HEALTH if adapter.agency == LA else LA


async def _deliver_directly(hub: Hub, agency: str, sealed: Sealed) -> None:
    """Put a message on `agency`'s queue without the router (as a misrouting would)."""
    connection = await aio_pika.connect_robust(hub.rabbitmq_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        await Publisher(channel).publish(
            "", hub.container.topology.agency_queue(agency), sealed.to_json().encode(),
            message_id=str(sealed.claims.jti),
        )  # fmt: skip
