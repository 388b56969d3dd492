"""Agencies that speak only HTTPS: submit through the gateway, poll and acknowledge their
mailbox, fetch receipts and the signed directory, track their messages; the LA is an AMQP
client on the same hub, and the router decides as for any AMQP sender."""

import asyncio
import json
from pathlib import Path

import pytest

from broker.directory.export import import_directory
from broker.directory.model import KeyUse
from broker.gateway import service as service_module
from broker.ledger import LedgerEvent
from broker.receipts import receipt_draft
from schemas.messages.receipt import ReceiptOutcome
from tests.integration.gateway.world import GatewayWorld, serving
from tests.integration.hub_harness import HEALTH, LA, SCHOOL, Hub, eventually, receipt_of


async def _poll(world: GatewayWorld, agency: str, path: str, count: int) -> list[dict[str, object]]:
    """Poll until the mailbox lists `count` messages (bounded)."""
    async with asyncio.timeout(30):
        while True:
            response = await world.http.get(path, headers=world.auth(agency))
            assert response.status_code == 200, response.text
            messages: list[dict[str, object]] = response.json()["messages"]
            if len(messages) >= count:
                return messages
            await asyncio.sleep(0.1)


async def test_a_school_submits_over_https_and_fetches_the_las_receipt(
    world_on: GatewayWorld,
) -> None:
    world = world_on
    sealed = world.seal(SCHOOL, LA, "school.deletion_return")
    message_id = str(sealed.claims.jti)

    response = await world.submit(SCHOOL, sealed)

    assert response.status_code == 201, response.text
    assert response.json() == {"message_id": message_id, "status": "published"}
    assert response.headers["location"] == f"/v1/messages/{message_id}"
    await eventually(lambda: world.hub.handled[f"{LA}/{message_id}"] == 1)
    [receipt] = await _poll(world, SCHOOL, "/v1/receipts", 1)
    assert receipt["message_type"] == "receipt"
    assert receipt["sender"] == LA
    opened = world.container.opener(SCHOOL).open(json.dumps(receipt["envelope"]))
    assert str(message_id) in {str(i) for i in opened.claims.causation_ids} | {
        str(opened.claims.causation_id)
    }
    track = await world.http.get(f"/v1/messages/{message_id}", headers=world.auth(SCHOOL))
    assert track.status_code == 200
    assert [e["event"] for e in track.json()["events"]] == ["routed", "receipted"]

    ack = await world.http.post(
        f"/v1/inbox/{receipt['message_id']}/ack", headers=world.auth(SCHOOL)
    )
    assert ack.status_code == 200
    again = await world.http.get("/v1/inbox", headers=world.auth(SCHOOL))
    assert again.json()["messages"] == []


async def test_submitting_the_same_envelope_twice_sends_it_once(world: GatewayWorld) -> None:
    sealed = world.seal(SCHOOL, LA, "school.deletion_return")
    first = await world.submit(SCHOOL, sealed)
    second = await world.submit(SCHOOL, sealed)
    assert (first.status_code, second.status_code) == (201, 201)
    await eventually(lambda: world.hub.handled[f"{LA}/{sealed.claims.jti}"] == 1)
    history = world.container.ledger(signing=False).history(str(sealed.claims.jti))
    assert [e.event for e in history if e.event == LedgerEvent.ROUTED] == [LedgerEvent.ROUTED]


async def test_an_https_agency_receives_opens_answers_and_acknowledges(
    world: GatewayWorld,
) -> None:
    enquiry = world.hub.send_example(LA, HEALTH, "cme.locate_enquiry")
    [item] = await _poll(world, HEALTH, "/v1/inbox", 1)
    assert item["message_id"] == str(enquiry.claims.jti)
    assert item["sender"] == LA
    assert item["message_type"] == "cme.locate_enquiry"
    opened = world.container.opener(HEALTH).open(json.dumps(item["envelope"]))
    assert opened.claims.jti == enquiry.claims.jti

    # Listed again until acknowledged: a client that crashed before storing it loses nothing.
    relisted = await world.http.get("/v1/inbox", headers=world.auth(HEALTH))
    assert [m["message_id"] for m in relisted.json()["messages"]] == [item["message_id"]]

    draft = receipt_draft(
        opened.claims,
        outcome=ReceiptOutcome.ACCEPTED,
        reason_code=None,
        decided_by_role="endpoint",
        now=world.container.clock(),
    )
    receipt = world.container.sealer(HEALTH).seal(draft)
    assert (await world.submit(HEALTH, receipt)).status_code == 201
    await eventually(lambda: receipt_of(world.hub, str(enquiry.claims.jti)) == ("accepted", None))

    ack = await world.http.post(f"/v1/inbox/{item['message_id']}/ack", headers=world.auth(HEALTH))
    assert ack.json() == {"message_id": item["message_id"]}
    empty = await world.http.get("/v1/inbox", headers=world.auth(HEALTH))
    assert empty.json() == {"messages": [], "hub_reachable": True}


async def test_a_refusal_by_the_router_reaches_the_https_sender_as_a_receipt(
    world: GatewayWorld,
) -> None:
    # No agreement lets a school send a locate enquiry to health.
    sealed = world.seal(SCHOOL, HEALTH, "cme.locate_enquiry")
    assert (await world.submit(SCHOOL, sealed)).status_code == 201
    [receipt] = await _poll(world, SCHOOL, "/v1/receipts", 1)
    opened = world.container.opener(SCHOOL).open(json.dumps(receipt["envelope"]))
    assert receipt["sender"] == world.container.settings.hub_id
    assert opened.payload.model_dump()["outcome"] == "rejected"
    track = await world.http.get(f"/v1/messages/{sealed.claims.jti}", headers=world.auth(SCHOOL))
    [event] = track.json()["events"]
    assert event["event"] == "refused"
    assert event["reason_code"]


async def test_the_directory_is_signed_by_the_hub(world: GatewayWorld) -> None:
    response = await world.http.get("/v1/directory", headers=world.auth(HEALTH))
    assert response.status_code == 200
    container = world.container
    hub_kid = (
        container.snapshot()
        .current_key(container.settings.hub_id, KeyUse.SIG, container.clock())
        .kid
    )
    imported = import_directory(
        response.json()["directory"], frozenset({hub_kid}), now=container.clock()
    )
    assert {a.id for a in imported.snapshot.agencies()} >= {SCHOOL, LA, HEALTH}


async def test_the_gateway_holds_a_bounded_mailbox_and_leaves_the_rest_queued(
    world: GatewayWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service_module, "MAILBOX_CAP", 1)
    first = world.hub.send_example(LA, HEALTH, "cme.locate_enquiry")
    second = world.hub.send_example(LA, HEALTH, "cme.locate_enquiry")
    await world.hub.clients[LA].flush()
    sent = {str(first.claims.jti), str(second.claims.jti)}
    [item] = await _poll(world, HEALTH, "/v1/inbox", 1)
    assert item["message_id"] in sent
    again = await world.http.get("/v1/inbox", headers=world.auth(HEALTH))
    assert [m["message_id"] for m in again.json()["messages"]] == [item["message_id"]]

    await world.http.post(f"/v1/inbox/{item['message_id']}/ack", headers=world.auth(HEALTH))
    [next_item] = await _poll(world, HEALTH, "/v1/inbox", 1)
    assert next_item["message_id"] == (sent - {item["message_id"]}).pop()


async def test_concurrent_polls_take_each_message_once(world_on: GatewayWorld) -> None:
    world = world_on
    sent = {
        str(world.hub.send_example(LA, HEALTH, "cme.locate_enquiry").claims.jti) for _ in range(20)
    }
    await world.hub.clients[LA].flush()
    seen: list[str] = []
    async with asyncio.timeout(30):
        while set(seen) != sent:
            polls = await asyncio.gather(
                *(world.http.get("/v1/inbox?limit=5", headers=world.auth(HEALTH)) for _ in range(4))
            )
            assert [p.status_code for p in polls] == [200] * 4, [p.text for p in polls]
            for poll in polls:
                for message in poll.json()["messages"]:
                    if message["message_id"] not in seen:
                        seen.append(message["message_id"])
                        ack = f"/v1/inbox/{message['message_id']}/ack"
                        assert (
                            await world.http.post(ack, headers=world.auth(HEALTH))
                        ).status_code == 200
    assert sorted(seen) == sorted(sent)
    rest = await world.http.get("/v1/inbox", headers=world.auth(HEALTH))
    assert rest.json()["messages"] == []


async def test_only_agencies_onboarded_to_the_gateway_have_a_mailbox(
    tmp_path: Path, rabbitmq_url: str
) -> None:
    # The LA reads its queue over AMQP: a poll with its credentials must not take from it.
    hub = Hub(tmp_path, rabbitmq_url, gateway_mailbox_agencies=(HEALTH,))
    hub.add_agencies()
    await hub.start(clients=[LA])
    try:
        async with serving(hub.container.gateway_app()) as http:
            world = GatewayWorld(hub, hub.container.gateway_app(), http)
            enquiry = hub.send_example(LA, HEALTH, "cme.locate_enquiry")
            refused = await http.get("/v1/inbox", headers=world.auth(LA))
            assert refused.status_code == 409
            assert refused.json()["error"]["code"] == "mailbox_not_enabled"
            [item] = await _poll(world, HEALTH, "/v1/inbox", 1)
            assert item["message_id"] == str(enquiry.claims.jti)
    finally:
        await hub.stop()
