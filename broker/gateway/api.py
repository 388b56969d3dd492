"""The agencies' HTTPS API (`/v1`): submit an envelope, poll the mailbox and acknowledge,
track a message, fetch the signed directory. Every operation needs authentication."""

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from broker.directory.tables import as_utc
from broker.envelope.wire import Envelope
from broker.gateway.auth import AssertionVerifier, ProxyCertificateAuthenticator
from broker.gateway.errors import Unauthenticated
from broker.gateway.models import (
    Acknowledged,
    ErrorBody,
    Inbox,
    InboxMessage,
    SignedDirectory,
    SubmitResult,
    Track,
    TrackEvent,
)
from broker.gateway.ratelimit import AgencyRateLimiter
from broker.gateway.service import GatewayService, Mailbox
from schemas.messages.receipt import TYPE as RECEIPT

CERT_HEADER = "x-client-cert"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
MessageId = Annotated[str, Path(pattern=UUID_PATTERN, description="the message id (`jti`)")]
Limit = Annotated[int, Query(ge=1, le=100, description="at most this many")]

bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="client assertion (JWS, Ed25519, typ client-authentication+jwt)",
    description="A fresh client assertion signed with the agency's registered signing key: "
    'claims {"iss": agency, "sub": agency, "aud": hub audience, "iat", "exp" (at most 5 '
    'minutes later), "jti" (unique)}. Each assertion is accepted once.',
)


@dataclass(frozen=True)
class Gatekeeper:
    """Authentication and rate limiting for every protected operation."""

    assertions: AssertionVerifier
    certificates: ProxyCertificateAuthenticator | None
    limiter: AgencyRateLimiter


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


PROTECTED: dict[int | str, dict[str, Any]] = {
    401: _error("no valid client assertion or client certificate"),
    403: _error("the agency is suspended or revoked"),
    422: _error("the request does not match the API"),
    429: _error("over the agency's rate: wait for Retry-After seconds"),
    503: _error("the hub (RabbitMQ or the database) did not answer in time"),
}


async def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    """The authenticated agency (client assertion, or a certificate from a trusted proxy)."""
    gate: Gatekeeper = request.app.state.gatekeeper
    forwarded = request.headers.get(CERT_HEADER)
    if credentials is not None:
        agency = await asyncio.to_thread(gate.assertions.authenticate, credentials.credentials)
    elif forwarded and gate.certificates is not None:
        agency = await asyncio.to_thread(gate.certificates.authenticate, forwarded)
    else:
        raise Unauthenticated("unauthenticated", "a client assertion is required")
    gate.limiter.check(agency)
    request.state.agency = agency
    return agency


Caller = Annotated[str, Depends(caller)]


def service_of(request: Request) -> GatewayService:
    """The gateway service the app was built with."""
    service: GatewayService = request.app.state.gateway
    return service


Service = Annotated[GatewayService, Depends(service_of)]
router = APIRouter(prefix="/v1", tags=["agencies"])


@router.post(
    "/messages",
    status_code=201,
    summary="Submit a sealed envelope",
    response_model=SubmitResult,
    responses={
        202: {"model": SubmitResult, "description": "stored; RabbitMQ is down, sent later"},
        409: _error("this message id was used for another envelope"),
        413: _error("the envelope is over the size limit"),
        **PROTECTED,
    },
)
async def submit(
    request: Request,
    response: Response,
    agency: Caller,
    service: Service,
    envelope: Annotated[  # validated here for the docs and the 422; the raw body is sent
        Envelope,
        Body(
            description="the envelope exactly as on AMQP (docs/wire-format.md)",
            openapi_examples={
                "envelope": {
                    "summary": "A sealed envelope (abridged compact JOSE strings)",
                    "value": {
                        "cme": 1,
                        "header": "eyJhbGciOiJFZDI1NTE5In0.eyJqdGkiOiIuLi4ifQ.c2lnbmF0dXJl",
                        "jwe": "eyJhbGciOiJFQ0RILUVTIn0..aXY.Y2lwaGVydGV4dA.dGFn",
                    },
                }
            },
        ),
    ],
) -> SubmitResult:
    """The envelope must be signed by the calling agency. Its outer layer is checked here
    (a forged or another agency's envelope is refused with 422 or 403 and recorded); every
    other verdict (agreements, replay, expiry) comes from the router as a signed refusal
    receipt in the caller's inbox, exactly as over AMQP."""
    submitted = await service.submit(agency, await request.body())
    response.status_code = 201 if submitted.status == "published" else 202
    response.headers["Location"] = f"/v1/messages/{submitted.message_id}"
    return SubmitResult(message_id=submitted.message_id, status=submitted.status)


def _inbox(mailbox: Mailbox) -> Inbox:
    return Inbox(
        messages=[
            InboxMessage(
                message_id=row.message_id,
                sender=row.sender,
                message_type=row.message_type,
                received_at=as_utc(row.received_at),
                envelope=Envelope.model_validate_json(row.wire or ""),
            )
            for row in mailbox.messages
        ],
        hub_reachable=mailbox.hub_reachable,
    )


MAILBOX_ERRORS = {409: _error("the gateway keeps no mailbox for this agency"), **PROTECTED}


@router.get("/inbox", summary="Messages for the caller", responses=MAILBOX_ERRORS)
async def inbox(agency: Caller, service: Service, limit: Limit = 20) -> Inbox:
    """Unacknowledged messages (receipts included), oldest first. The same messages are
    listed again until acknowledged."""
    return _inbox(await service.mailbox(agency, limit, None))


@router.get("/receipts", summary="Receipts for the caller's messages", responses=MAILBOX_ERRORS)
async def receipts(agency: Caller, service: Service, limit: Limit = 20) -> Inbox:
    """Only the receipts among the unacknowledged messages (signed by the recipient, or by
    the hub for a refusal); acknowledge them like any message."""
    return _inbox(await service.mailbox(agency, limit, RECEIPT))


@router.post(
    "/inbox/{message_id}/ack",
    summary="Acknowledge a message",
    responses={404: _error("no such message in the caller's mailbox"), **PROTECTED},
)
async def acknowledge(message_id: MessageId, agency: Caller, service: Service) -> Acknowledged:
    """Acknowledge once the message is safely stored on your side."""
    await service.acknowledge(agency, message_id.lower())
    return Acknowledged(message_id=message_id.lower())


@router.get(
    "/messages/{message_id}",
    summary="Track a message",
    responses={404: _error("the caller neither sent nor received it"), **PROTECTED},
)
async def track(message_id: MessageId, agency: Caller, service: Service) -> Track:
    """What the hub's ledger holds about a message the caller sent or received: routed,
    refused (with the reason code), receipted, dead-lettered."""
    entries = await service.track(agency, message_id.lower())
    return Track(
        message_id=message_id.lower(),
        events=[
            TrackEvent(
                seq=e.seq,
                recorded_at=as_utc(e.recorded_at),
                event=e.event,
                message_id=e.message_id,
                sender=e.sender,
                recipient=e.recipient,
                message_type=e.message_type,
                reason_code=e.reason_code,
                related_message_id=e.related_message_id,
            )
            for e in entries
        ],
    )


@router.get(
    "/directory",
    summary="The signed directory",
    responses=PROTECTED,
    dependencies=[Depends(caller)],
)
async def directory(service: Service) -> SignedDirectory:
    """Agencies and their public keys, signed by the hub: what you seal to and verify with."""
    return SignedDirectory(directory=await service.directory())
