"""Receipts: the signed answer to every message (accepted by the recipient, or refused by the
recipient or the hub). A receipt falls under the agreement of the message it answers.

A refusal answers one message (receipt v1). Acceptances are answered in batches (receipt v2):
one receipt per sender and agreement for what one inbox transaction accepted, which halves
the traffic a busy endpoint puts through its hub.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from broker.envelope import Draft, OuterClaims
from schemas.justification import (
    AgreementRef,
    Consent,
    ConsentStatus,
    Justification,
    LawfulBasis,
    Purpose,
    Retention,
)
from schemas.messages.receipt import MAX_RECEIPTED, ReceiptOutcome, ReceiptV1, ReceiptV2
from schemas.messages.receipt import TYPE as RECEIPT

RECEIPT_GATEWAY = "UK GDPR Art 5(2)"  # accountability: proof of what was received
RECEIPT_RETENTION = timedelta(days=6 * 365)


def receipt_draft(
    original: OuterClaims,
    *,
    outcome: ReceiptOutcome,
    reason_code: str | None,
    decided_by_role: str,
    now: datetime,
) -> Draft:
    """A receipt for `original`, addressed back to its sender."""
    payload = _entry(original, outcome, reason_code, now)
    return Draft(
        recipient=original.iss,
        message_type=RECEIPT,
        payload=payload,
        justification=_justification(original.justification.agreement, decided_by_role, now),
        correlation_id=original.correlation_id,
        causation_id=original.jti,
    )


@dataclass(frozen=True)
class Accepted:
    """A message an endpoint accepted, with what its receipt needs."""

    sender: str
    message_id: UUID
    jwe_sha256: str
    agreement: AgreementRef
    received_at: datetime

    @classmethod
    def of(cls, claims: OuterClaims, received_at: datetime) -> "Accepted":
        """From the header of the accepted message."""
        agreement = claims.justification.agreement
        return cls(claims.iss, claims.jti, claims.jwe_sha256, agreement, received_at)


def batch_receipt_drafts(
    accepted: Sequence[Accepted], *, decided_by_role: str, now: datetime
) -> list[Draft]:
    """Receipts (v2) accepting `accepted`: one per sender and agreement, at most
    `MAX_RECEIPTED` messages each."""
    groups: dict[tuple[str, AgreementRef], list[Accepted]] = {}
    for one in accepted:
        groups.setdefault((one.sender, one.agreement), []).append(one)
    drafts = []
    for (sender, agreement), members in groups.items():
        for start in range(0, len(members), MAX_RECEIPTED):
            chunk = members[start : start + MAX_RECEIPTED]
            entries = tuple(
                ReceiptV1(
                    message_id=a.message_id,
                    jwe_sha256=a.jwe_sha256,
                    received_at=a.received_at,
                    outcome=ReceiptOutcome.ACCEPTED,
                )
                for a in chunk
            )
            drafts.append(
                Draft(
                    recipient=sender,
                    message_type=RECEIPT,
                    payload=ReceiptV2(receipts=entries),
                    justification=_justification(agreement, decided_by_role, now),
                    causation_ids=tuple(a.message_id for a in chunk),
                )
            )
    return drafts


def _entry(
    original: OuterClaims, outcome: ReceiptOutcome, reason_code: str | None, now: datetime
) -> ReceiptV1:
    return ReceiptV1(
        message_id=original.jti,
        jwe_sha256=original.jwe_sha256,
        received_at=now,
        outcome=outcome,
        reason_code=reason_code,
    )


def _justification(agreement: AgreementRef, role: str, now: datetime) -> Justification:
    return Justification(
        decision_id=uuid4(),
        decided_at=now,
        decided_by_role=role,
        purpose=Purpose.DELIVERY_RECEIPT,
        lawful_basis=LawfulBasis.PUBLIC_TASK,
        statutory_gateways=(RECEIPT_GATEWAY,),
        agreement=agreement,
        data_categories=tuple(ReceiptV1.model_fields),
        necessity="Proof of delivery or refusal for accountability; holds no personal data.",
        consent=Consent(status=ConsentStatus.NOT_SOUGHT, reason="Not personal data."),
        retention=Retention(
            rule="Kept with the ledger entry of the message it answers.",
            review_date=(now + RECEIPT_RETENTION).date(),
        ),
    )
