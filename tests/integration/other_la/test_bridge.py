"""Two LA hubs on one RabbitMQ (two topology prefixes, two databases), joined by the bridge:
a cross-border notification from LA 330 reaches LA 331 end-to-end encrypted, both hubs verify
and record it, the receipt travels back, and the confirmation comes the other way."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.other_la.bridge import Bridge, HubEnd
from adapters.other_la.federation import adopt_from_peer
from broker.agreements import AgreementRefusal, ShareIntent, justify
from broker.envelope import Draft, Sealed
from broker.ledger import LedgerEvent
from schemas.examples import example_payload
from tests.integration.conftest import fresh_database
from tests.integration.hub_harness import AREA, LA, Hub, eventually, receipt_of

pytestmark = pytest.mark.rabbitmq
PEER_LA, PEER_SCHOOL = "la:331", "school:3314012"


@dataclass
class Federation:
    a: Hub
    b: Hub
    bridges: list[Bridge]


def home_agencies(hub: Hub, la: str) -> tuple[str, ...]:
    return tuple(x.id for x in hub.container.snapshot().agencies() if x.home_la == la)


@pytest.fixture
def peer_db_url(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> Iterator[str]:
    """A second database of the same kind as `db_url`: the peer hub's own."""
    kind = "sqlite" if db_url.startswith("sqlite") else "postgres"
    yield from fresh_database(request, kind, tmp_path / "peer.db")


@pytest.fixture
async def federation(
    tmp_path: Path, rabbitmq_url: str, db_url: str, peer_db_url: str
) -> AsyncIterator[Federation]:
    a = Hub(tmp_path / "a", rabbitmq_url, db_url)
    b = Hub(tmp_path / "b", rabbitmq_url, peer_db_url, hub_id="hub:331")
    a.add_agencies(AREA)
    for agency in (PEER_LA, PEER_SCHOOL):
        b.container.directory_store.add_agency(agency, f"Synthetic {agency}", "331")
    adopt_from_peer(a.container, b.container, "331", "330")
    adopt_from_peer(b.container, a.container, "330", "331")
    await a.start(clients=[LA])
    await b.start(clients=[PEER_LA])
    ends = {h: HubEnd(rabbitmq_url, h.container.topology) for h in (a, b)}
    bridges = [
        Bridge(ends[a], ends[b], (PEER_LA, PEER_SCHOOL, "hub:331")),
        Bridge(ends[b], ends[a], home_agencies(a, "330")),
    ]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(bridge.run(stop)) for bridge in bridges]
    try:
        yield Federation(a, b, bridges)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        await a.stop()
        await b.stop()


def send(hub: Hub, sender: str, recipient: str, message_type: str) -> Sealed:
    payload = example_payload(message_type, sender=sender, recipient=recipient)
    intent = ShareIntent(sender, recipient, message_type, payload, "cme-officer", "Cross-border.")
    reason = justify(hub.container.agreements, intent, hub.container.clock())
    return hub.clients[sender].send(Draft(recipient, message_type, payload, reason))


def events(hub: Hub, message_id: str) -> list[LedgerEvent]:
    return [e.event for e in hub.container.ledger(signing=False).history(message_id)]


async def test_a_notification_crosses_both_hubs_and_its_receipt_comes_back(
    federation: Federation,
) -> None:
    a, b = federation.a, federation.b
    sent = send(a, LA, PEER_LA, "cme.cross_border_notification")
    jti = str(sent.claims.jti)
    await eventually(lambda: b.handled[f"{PEER_LA}/{jti}"] == 1)
    # Opened only by LA 331: the same bytes crossed both hubs.
    (opened,) = b.handled_by[PEER_LA]
    assert opened.claims.jwe_sha256 == sent.claims.jwe_sha256
    await eventually(lambda: receipt_of(a, jti) == ("accepted", None))
    # Each hub verified and recorded the message and its receipt.
    assert events(a, jti) == [LedgerEvent.ROUTED, LedgerEvent.RECEIPTED]
    assert events(b, jti) == [LedgerEvent.ROUTED, LedgerEvent.RECEIPTED]

    answer = send(b, PEER_LA, LA, "cme.cross_border_confirmation")
    await eventually(lambda: a.handled[f"{LA}/{answer.claims.jti}"] == 1)
    await eventually(lambda: receipt_of(b, str(answer.claims.jti)) == ("accepted", None))
    # Each way: a message and a receipt.
    assert [bridge.carried for bridge in federation.bridges] == [2, 2]
    for hub in (a, b):
        assert hub.container.ledger(signing=False).verify(hub.container.snapshot()).ok


async def test_a_peer_cannot_send_what_no_agreement_permits(federation: Federation) -> None:
    """No agreement lets LA 330 send LA 331 a case status: refused at the sender, before it
    is sealed (and the hub would refuse it the same way)."""
    a = federation.a
    payload = example_payload("cme.case_status")
    intent = ShareIntent(LA, PEER_LA, "cme.case_status", payload, "cme-officer", "Status.")
    with pytest.raises(AgreementRefusal) as refused:
        justify(a.container.agreements, intent, a.container.clock())
    assert refused.value.reason == "no_agreement"
