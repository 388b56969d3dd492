"""Every refusal path at the hub: a signed refusal receipt to an authenticated sender, a ledger
entry, and the original kept in the refused queue with its reason. Nothing silently dropped."""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import aio_pika
import pytest
from sqlmodel import Session, col, select

from broker.clock import utc_now
from broker.directory.model import AgencyStatus
from broker.envelope import Draft, Sealed
from broker.ledger import LedgerEvent
from broker.ledger.tables import LedgerEntryRow
from broker.receipts import Accepted, batch_receipt_drafts, receipt_draft
from broker.transport.headers import REASON_HEADER
from schemas.examples import example_justification, example_payload
from schemas.messages.receipt import ReceiptOutcome
from tests.integration.hub_harness import (
    HEALTH,
    LA,
    SCHOOL,
    Hub,
    eventually,
    publish_raw,
    receipt_of,
)

DELETION = "school.deletion_return"


@pytest.fixture
async def hub(tmp_path: Path, rabbitmq_url: str) -> AsyncIterator[Hub]:
    hub = Hub(tmp_path, rabbitmq_url, clock_skew_seconds=0)
    hub.add_agencies()
    await hub.start()
    yield hub
    await hub.stop()


def seal(hub: Hub, sender: str, recipient: str = LA, **draft: Any) -> Sealed:
    justification = example_justification(DELETION, sender=sender, recipient=recipient)
    fields = {"payload": example_payload(DELETION), "justification": justification, **draft}
    return hub.container.sealer(sender).seal(Draft(recipient, DELETION, **fields))


async def refused_queue_reasons(hub: Hub) -> list[str]:
    """The reasons on the originals kept in the refused queue."""
    connection = await aio_pika.connect(hub.rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(hub.container.topology.refused_queue)
        reasons = []
        while (message := await queue.get(fail=False, no_ack=True)) is not None:
            reasons.append(str((message.headers or {}).get(REASON_HEADER)))
        return reasons


def refusals_in_ledger(hub: Hub, jti: str) -> list[tuple[str | None, str]]:
    history = hub.container.ledger(signing=False).history(jti)
    return [(e.reason_code, e.sender) for e in history if e.event == LedgerEvent.REFUSED]


async def refused_with_receipt(hub: Hub, sealed: Sealed, sender: str, reason: str) -> None:
    jti = str(sealed.claims.jti)
    await publish_raw(hub, sender, sealed.to_json().encode(), message_id=jti)
    await eventually(lambda: receipt_of(hub, jti) == ("rejected", reason))
    assert refusals_in_ledger(hub, jti) == [(reason, sender)]
    assert not any(key.endswith(jti) for key in hub.handled)


async def test_no_agreement_permits_the_flow(hub: Hub) -> None:
    await refused_with_receipt(hub, seal(hub, HEALTH), HEALTH, "message_type_not_permitted")
    assert await refused_queue_reasons(hub) == ["message_type_not_permitted"]


async def test_justification_that_does_not_match_the_agreement(hub: Hub) -> None:
    wrong = example_justification(DELETION, sender=SCHOOL, recipient=LA)
    wrong = wrong.model_copy(update={"statutory_gateways": ("Localism Act 2011 s1",)})
    sealed = seal(hub, SCHOOL, justification=wrong)
    await refused_with_receipt(hub, sealed, SCHOOL, "gateway_not_permitted")


async def test_expired_message(hub: Hub) -> None:
    sealed = seal(hub, SCHOOL, lifetime=timedelta(seconds=1))
    await eventually(lambda: utc_now().timestamp() > sealed.claims.exp + 0.5, timeout_s=5)
    await refused_with_receipt(hub, sealed, SCHOOL, "expired")


async def test_recipient_no_longer_active(hub: Hub) -> None:
    sealed = seal(hub, SCHOOL)
    hub.container.directory_store.set_status(LA, AgencyStatus.SUSPENDED)
    await refused_with_receipt(hub, sealed, SCHOOL, "unknown_recipient")


async def test_replayed_message_id_with_other_content(hub: Hub) -> None:
    first = seal(hub, SCHOOL)
    await publish_raw(hub, SCHOOL, first.to_json().encode(), message_id=str(first.claims.jti))
    await eventually(lambda: hub.handled[f"{LA}/{first.claims.jti}"] == 1)
    replay = seal(hub, SCHOOL, message_id=first.claims.jti)
    await publish_raw(hub, SCHOOL, replay.to_json().encode())
    await eventually(
        lambda: refusals_in_ledger(hub, str(first.claims.jti)) == [("replayed", SCHOOL)]
    )
    assert hub.handled[f"{LA}/{first.claims.jti}"] == 1


async def test_exact_duplicate_is_delivered_once(hub: Hub) -> None:
    sealed = seal(hub, SCHOOL)
    jti = str(sealed.claims.jti)
    for _ in range(3):
        await publish_raw(hub, SCHOOL, sealed.to_json().encode())
    await eventually(lambda: hub.handled[f"{LA}/{jti}"] == 1)
    await eventually(lambda: receipt_of_count(hub, jti) == 1)
    events = [e.event for e in hub.container.ledger(signing=False).history(jti)]
    assert events.count(LedgerEvent.ROUTED) == 1
    assert hub.handled[f"{LA}/{jti}"] == 1


def receipt_of_count(hub: Hub, jti: str) -> int:
    history = hub.container.ledger(signing=False).history(jti)
    return sum(1 for e in history if e.event == LedgerEvent.RECEIPTED)


async def test_suspended_sender_is_refused_and_recorded(hub: Hub) -> None:
    sealed = seal(hub, SCHOOL)
    jti = str(sealed.claims.jti)
    hub.container.directory_store.set_status(SCHOOL, AgencyStatus.SUSPENDED)
    await publish_raw(hub, SCHOOL, sealed.to_json().encode(), message_id=jti)
    await eventually(lambda: refusals_in_ledger(hub, jti) == [("sender_not_active", SCHOOL)])
    assert "sender_not_active" in await refused_queue_reasons(hub)


async def test_receipt_for_a_message_never_routed(hub: Hub) -> None:
    original = seal(hub, SCHOOL)  # sealed but never sent
    draft = receipt_draft(original.claims, outcome=ReceiptOutcome.ACCEPTED, reason_code=None,
                          decided_by_role="cme_officer", now=utc_now())  # fmt: skip
    receipt = hub.container.sealer(LA).seal(draft)
    jti = str(receipt.claims.jti)
    await publish_raw(hub, LA, receipt.to_json().encode())
    await eventually(lambda: refusals_in_ledger(hub, jti) == [("receipt_unrelated", LA)])


async def test_batched_receipt_covering_one_unrelated_message_is_refused_whole(hub: Hub) -> None:
    """Every message a batched receipt answers must have been routed to its sender: one
    smuggled id (here a message the LA never received) refuses the whole receipt."""
    routed = hub.send_example(SCHOOL, LA, "school.deletion_return")
    await eventually(lambda: hub.handled[f"{LA}/{routed.claims.jti}"] == 1)
    never_sent = seal(hub, SCHOOL)
    now = utc_now()
    accepted = [Accepted.of(s.claims, now) for s in (routed, never_sent)]
    (draft,) = batch_receipt_drafts(accepted, decided_by_role="cme_officer", now=now)
    receipt = hub.container.sealer(LA).seal(draft)
    jti = str(receipt.claims.jti)
    await publish_raw(hub, LA, receipt.to_json().encode())
    await eventually(lambda: refusals_in_ledger(hub, jti) == [("receipt_unrelated", LA)] * 2)


async def test_a_second_receipt_for_the_same_message_is_refused(hub: Hub) -> None:
    """One receipt per message from its recipient: a second one would be a channel outside
    any agreement."""
    routed = hub.send_example(SCHOOL, LA, "school.deletion_return")
    jti = str(routed.claims.jti)
    await eventually(lambda: receipt_of_count(hub, jti) == 1)
    now = utc_now()
    (draft,) = batch_receipt_drafts([Accepted.of(routed.claims, now)], decided_by_role="x", now=now)
    again = hub.container.sealer(LA).seal(draft)
    await publish_raw(hub, LA, again.to_json().encode())
    await eventually(
        lambda: refusals_in_ledger(hub, str(again.claims.jti)) == [("receipt_repeated", LA)]
    )


async def test_garbage_is_refused_recorded_and_kept(hub: Hub) -> None:
    for body in (b"not json", b'{"cme": 1}', b"\xff" * 100, uuid4().bytes):
        await publish_raw(hub, SCHOOL, body)

    def malformed_entries() -> int:
        with Session(hub.container.engine) as session:
            query = select(LedgerEntryRow).where(
                col(LedgerEntryRow.sender) == "unauthenticated",
                col(LedgerEntryRow.reason_code) == "malformed",
            )
            return len(session.exec(query).all())

    await eventually(lambda: malformed_entries() == 4)
    assert await refused_queue_reasons(hub) == ["malformed"] * 4
    # The router is still running: a good message still flows.
    sealed = hub.send_example(SCHOOL, LA, DELETION)
    await eventually(lambda: hub.handled[f"{LA}/{sealed.claims.jti}"] == 1)
