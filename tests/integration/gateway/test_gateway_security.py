"""Who may do what through the gateway: authentication, cross-agency access, envelopes
refused at the edge (and recorded), rate and size limits, and error bodies that leak nothing."""

import asyncio
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding

from broker.app import Container
from broker.directory.model import AgencyStatus, KeyUse
from broker.envelope.jose import b64url_decode
from broker.gateway.api import CERT_HEADER
from broker.ledger import LedgerEvent
from broker.ledger.model import LedgerFilter
from tests.certificates import forwarded, issue, make_ca
from tests.integration.gateway.world import GatewayWorld, serving
from tests.integration.hub_harness import HEALTH, HOUSING, LA, SCHOOL, Hub

ANY_ID = "0b6d2d0e-6f1c-4d43-9a53-3f0d1d6b8e51"


def _error(response: httpx.Response, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "request_id"}
    assert body["error"]["code"] == code
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    error: dict[str, str] = body["error"]
    return error


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_anonymous_calls_are_refused(world: GatewayWorld) -> None:
    response = await world.http.get("/v1/inbox")
    _error(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"audience": "hub:999"}, "assertion_invalid"),
        ({"lifetime": timedelta(hours=1)}, "assertion_invalid"),
        ({"now_offset": timedelta(minutes=-10)}, "assertion_expired"),
        ({"now_offset": timedelta(minutes=10)}, "assertion_invalid"),
    ],
)
async def test_unacceptable_assertions_are_refused(
    world: GatewayWorld, claims: dict[str, object], code: str
) -> None:
    offset = claims.pop("now_offset", None)
    if isinstance(offset, timedelta):
        claims["now"] = world.container.clock() + offset
    response = await world.http.get("/v1/inbox", headers=_bearer(world.assertion(SCHOOL, **claims)))
    _error(response, 401, code)


async def test_an_assertion_works_once(world: GatewayWorld) -> None:
    token = world.assertion(SCHOOL)
    assert (await world.http.get("/v1/inbox", headers=_bearer(token))).status_code == 200
    _error(await world.http.get("/v1/inbox", headers=_bearer(token)), 401, "assertion_replayed")


async def test_garbage_and_tampered_assertions_are_refused(world: GatewayWorld) -> None:
    _error(
        await world.http.get("/v1/inbox", headers=_bearer("not-a-jwt")), 401, "assertion_malformed"
    )
    head, _payload, signature = world.assertion(SCHOOL).split(".")
    other_payload = world.assertion(HEALTH).split(".")[1]
    forged = ".".join((head, other_payload, signature))
    _error(await world.http.get("/v1/inbox", headers=_bearer(forged)), 401, "assertion_invalid")


async def test_a_revoked_key_and_a_suspended_agency_are_shut_out(world: GatewayWorld) -> None:
    store = world.container.directory_store
    token = world.assertion(HOUSING)
    store.set_status(HOUSING, AgencyStatus.SUSPENDED)
    _error(await world.http.get("/v1/inbox", headers=_bearer(token)), 403, "agency_not_active")

    container = world.container
    kid = container.snapshot().current_key(SCHOOL, KeyUse.SIG, container.clock()).kid
    token = world.assertion(SCHOOL)
    store.revoke_key(kid)
    _error(await world.http.get("/v1/inbox", headers=_bearer(token)), 401, "assertion_revoked_key")


async def test_an_agency_cannot_touch_another_agencys_messages(world: GatewayWorld) -> None:
    enquiry = world.hub.send_example(LA, HEALTH, "cme.locate_enquiry")
    message_id = str(enquiry.claims.jti)
    async with asyncio.timeout(30):  # in health's mailbox, and routed in the ledger
        while not (await world.http.get("/v1/inbox", headers=world.auth(HEALTH))).json()[
            "messages"
        ]:
            await asyncio.sleep(0.1)
    mine = await world.http.get(f"/v1/messages/{message_id}", headers=world.auth(HEALTH))
    assert mine.status_code == 200
    response = await world.http.post(f"/v1/inbox/{message_id}/ack", headers=world.auth(HOUSING))
    _error(response, 404, "not_found")
    _error(
        await world.http.get(f"/v1/messages/{message_id}", headers=world.auth(HOUSING)),
        404,
        "not_found",
    )
    housing_inbox = await world.http.get("/v1/inbox", headers=world.auth(HOUSING))
    assert housing_inbox.json()["messages"] == []
    still_there = await world.http.get("/v1/inbox", headers=world.auth(HEALTH))
    assert [m["message_id"] for m in still_there.json()["messages"]] == [message_id]


async def test_an_envelope_signed_by_another_agency_is_refused_and_recorded(
    world: GatewayWorld,
) -> None:
    sealed = world.seal(SCHOOL, LA, "school.deletion_return")
    response = await world.submit(HEALTH, sealed)  # health's credentials, the school's envelope
    _error(response, 403, "sender_mismatch")
    refusals = _refusals(world, "sender_mismatch")
    assert [(e["sender"], e["rule"]) for e in refusals] == [
        (HEALTH, "gateway:authenticated-agency")
    ]
    assert world.hub.handled[f"{LA}/{sealed.claims.jti}"] == 0


async def test_a_forged_envelope_is_refused_with_its_reason_and_recorded(
    world: GatewayWorld,
) -> None:
    sealed = world.seal(SCHOOL, LA, "school.deletion_return")
    head, payload, signature = sealed.envelope.header.split(".")
    forged = sealed.envelope.model_copy(update={"header": f"{head}.{payload}.{signature[::-1]}"})
    response = await world.http.post(
        "/v1/messages",
        content=forged.model_dump_json(),
        headers={**world.auth(SCHOOL), "Content-Type": "application/json"},
    )
    _error(response, 422, "bad_signature")
    assert [e["sender"] for e in _refusals(world, "bad_signature")] == [SCHOOL]


async def test_a_body_that_is_not_an_envelope_gets_a_clear_error_without_its_content(
    world: GatewayWorld,
) -> None:
    response = await world.http.post(
        "/v1/messages",
        json={"cme": 1, "header": "x", "jwe": "y", "Jane Example": "1 Any Street"},
        headers=world.auth(SCHOOL),
    )
    error = _error(response, 422, "invalid_request")
    assert "Jane" not in response.text
    assert "Street" not in response.text
    assert error["message"].endswith("body")


async def test_an_oversized_body_is_refused_before_it_is_read(world: GatewayWorld) -> None:
    limit = world.container.settings.max_envelope_bytes
    response = await world.http.post(
        "/v1/messages", content=b"x" * (limit + 1), headers=world.auth(SCHOOL)
    )
    _error(response, 413, "too_large")


async def test_an_oversized_streamed_body_is_refused_too(world: GatewayWorld) -> None:
    limit = world.container.settings.max_envelope_bytes

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(limit // 4096 + 2):
            yield b"x" * 4096

    response = await world.http.post("/v1/messages", content=chunks(), headers=world.auth(SCHOOL))
    assert "content-length" not in response.request.headers
    _error(response, 413, "too_large")


async def test_a_forwarded_certificate_counts_only_when_trusted_and_from_our_ca(
    tmp_path: Path, rabbitmq_url: str
) -> None:
    hub = Hub(tmp_path, rabbitmq_url)
    hub.add_agencies()
    ca_key, ca = make_ca(datetime.now(UTC))
    (tmp_path / "agencies-ca.pem").write_bytes(ca.public_bytes(Encoding.PEM))
    header = {CERT_HEADER: _client_certificate(hub, SCHOOL, ca_key)}
    try:
        async with serving(hub.container.gateway_app()) as http:  # not trusted: ignored
            _error(await http.get("/v1/inbox", headers=header), 401, "unauthenticated")
        trusting = Container(
            hub.container.settings.model_copy(
                update={
                    "gateway_trust_proxy_cert": True,
                    "gateway_client_ca": tmp_path / "agencies-ca.pem",
                }
            )
        )
        async with serving(trusting.gateway_app()) as http:
            assert (await http.get("/v1/inbox", headers=header)).status_code == 200
            # The same names, the school's public key, but signed by someone else's key.
            own_ca_key, _own_ca = make_ca(datetime.now(UTC))
            forged = {CERT_HEADER: _client_certificate(hub, SCHOOL, own_ca_key)}
            _error(await http.get("/v1/inbox", headers=forged), 401, "certificate_invalid")
    finally:
        await hub.delete_topology()


def _client_certificate(hub: Hub, agency: str, ca_key: Ed25519PrivateKey) -> str:
    """A certificate for the agency's registered signing key, as nginx forwards it."""
    container = hub.container
    kid = container.snapshot().current_key(agency, KeyUse.SIG, container.clock()).kid
    private = container.keystore.load(agency, kid)
    public = Ed25519PublicKey.from_public_bytes(b64url_decode(private.as_dict()["x"]))
    now = datetime.now(UTC)
    return forwarded(issue(public, ca_key, (now - timedelta(days=1), now + timedelta(days=30))))


async def test_each_agency_has_its_own_rate_limit(tmp_path: Path, rabbitmq_url: str) -> None:
    hub = Hub(tmp_path, rabbitmq_url, gateway_rate_limit="3/minute")
    hub.add_agencies()
    try:
        app = hub.container.gateway_app()
        async with serving(app) as http:
            world = GatewayWorld(hub, app, http)
            for _ in range(3):
                assert (
                    await http.get("/v1/directory", headers=world.auth(SCHOOL))
                ).status_code == 200
            limited = await http.get("/v1/directory", headers=world.auth(SCHOOL))
            _error(limited, 429, "rate_limited")
            assert 1 <= int(limited.headers["retry-after"]) <= 60
            other = await http.get("/v1/directory", headers=world.auth(HEALTH))
            assert other.status_code == 200
    finally:
        await hub.delete_topology()


async def test_an_internal_failure_says_nothing_about_itself(
    world: GatewayWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object) -> object:
        raise RuntimeError("SELECT * FROM gateway_mailbox WHERE kid='k1' /srv/cme/keystore")

    service = world.app.state.gateway
    monkeypatch.setattr(service._parts.store, "pending", explode)
    transport = httpx.ASGITransport(app=world.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        response = await http.get("/v1/inbox", headers=world.auth(SCHOOL))
    error = _error(response, 500, "internal_error")
    for leak in ("SELECT", "kid", "/srv", "Traceback", "RuntimeError"):
        assert leak not in response.text
    assert error["message"] == "internal error"


def _refusals(world: GatewayWorld, reason: str) -> list[dict[str, Any]]:
    """The ledger's refusals with this reason (as the DPO's JSON export shows them)."""
    out = io.StringIO()
    world.container.ledger(signing=False).export(LedgerFilter(), "json", out)
    return [
        e
        for e in json.loads(out.getvalue())
        if e["event"] == LedgerEvent.REFUSED and e["reason_code"] == reason
    ]
