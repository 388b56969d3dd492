"""Justifications from the agreements: what an endpoint cites when it sends a message.

An endpoint (the CME desk, an adapter) knows what it sends and why in plain words; the
agreement in force says on which purpose, lawful basis, gateways, conditions and retention that
share is permitted. `justify` fills the structured justification from the first flow that
permits the share, lists as data categories exactly the fields the payload fills, and checks
the result with the same `AgreementBook.evaluate` the router applies, so a share no agreement
permits is refused at the sender, before anything is sealed.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import uuid4

from broker.agreements.book import AgreementBook
from broker.agreements.errors import AgreementRefusal, RefusalReason
from broker.agreements.model import Agreement, Flow
from schemas.base import WireModel
from schemas.justification import (
    AgreementRef,
    Consent,
    ConsentStatus,
    Justification,
    LawfulBasis,
    Purpose,
    Retention,
)
from schemas.registry import default_registry


@dataclass(frozen=True)
class ShareIntent:
    """What an endpoint means to share: with whom, what, why (in words), decided by whom."""

    sender: str
    recipient: str
    message_type: str
    payload: WireModel
    decided_by_role: str
    necessity: str
    """Why this share is necessary and proportionate, in general terms (no personal data)."""
    purpose: Purpose | None = None
    """The purpose, when a flow allows several; otherwise the flow's first."""
    lawful_basis: LawfulBasis | None = None
    """The Art 6 basis, when a flow allows several (an independent school cites (ea) where a
    maintained school cites (e)); otherwise the flow's first."""


def justify(book: AgreementBook, intent: ShareIntent, at: datetime) -> Justification:
    """The justification for `intent` under the first in-force flow that permits it.
    Raises `AgreementRefusal` when none does (naming the rule, as the router would)."""
    registry = default_registry()
    version = registry.version_of(intent.message_type, intent.payload)
    spec = registry.spec(intent.message_type, version)
    categories = _filled_fields(intent.payload)
    refusal: AgreementRefusal | None = None
    for agreement, flow in _candidates(book, intent, at):
        justification = _from_flow(agreement, flow, intent, categories, at, spec.special_category)
        try:
            book.evaluate(
                sender=intent.sender,
                recipient=intent.recipient,
                message_type=intent.message_type,
                special_category_spec=spec.special_category,
                justification=justification,
                at=at,
            )
        except AgreementRefusal as exc:
            refusal = refusal or exc
            continue
        return justification
    raise refusal or AgreementRefusal(RefusalReason.NO_AGREEMENT, "*/*/exists")


def _candidates(
    book: AgreementBook, intent: ShareIntent, at: datetime
) -> list[tuple[Agreement, Flow]]:
    return [
        (agreement, flow)
        # The newest version first: a narrower v2 must take effect once it is in force.
        for agreement in sorted(book.agreements(), key=lambda a: -a.version)
        if agreement.in_force(at)
        for flow in agreement.flows
        if intent.message_type in flow.message_types
        and intent.sender != intent.recipient
        and flow.connects(intent.sender, intent.recipient)
        and (intent.purpose is None or intent.purpose in flow.purposes)
        and (intent.lawful_basis is None or intent.lawful_basis in flow.lawful_bases)
    ]


def _filled_fields(payload: WireModel) -> tuple[str, ...]:
    """The payload's top-level fields that carry something: what is actually shared."""
    return tuple(
        name
        for name in type(payload).model_fields
        if getattr(payload, name) not in (None, (), [], "")
    )


def _from_flow(
    agreement: Agreement,
    flow: Flow,
    intent: ShareIntent,
    categories: tuple[str, ...],
    at: datetime,
    special_spec: bool,
) -> Justification:
    # A type that can carry special category data cites the flow's condition: the payload
    # may well hold such data, and the router refuses a required condition left out.
    conditions = flow.special_category_conditions
    condition = conditions[0] if special_spec and conditions else None
    basis = intent.lawful_basis or flow.lawful_bases[0]
    return Justification(
        decision_id=uuid4(),
        decided_at=at,
        decided_by_role=intent.decided_by_role,
        purpose=intent.purpose or flow.purposes[0],
        lawful_basis=basis,
        special_category=condition,
        statutory_gateways=flow.statutory_gateways[:8],
        agreement=AgreementRef(id=agreement.id, version=agreement.version),
        data_categories=categories,
        necessity=intent.necessity,
        consent=Consent(
            status=ConsentStatus.NOT_SOUGHT,
            reason=f"Consent is not the lawful basis: UK GDPR {basis.value} applies.",
        ),
        retention=Retention(
            rule=flow.retention.rule,
            review_date=(at + timedelta(days=flow.retention.max_days)).date(),
        ),
    )
