"""Receipts: the signed answer to every message (accepted by the recipient, or refused by the
recipient or the hub). A receipt falls under the agreement of the message it answers."""

from datetime import datetime, timedelta
from uuid import uuid4

from broker.envelope import Draft, OuterClaims
from schemas.justification import (
    Consent,
    ConsentStatus,
    Justification,
    LawfulBasis,
    Purpose,
    Retention,
)
from schemas.messages.receipt import TYPE as RECEIPT
from schemas.messages.receipt import ReceiptOutcome, ReceiptV1

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
    payload = ReceiptV1(
        message_id=original.jti,
        jwe_sha256=original.jwe_sha256,
        received_at=now,
        outcome=outcome,
        reason_code=reason_code,
    )
    justification = Justification(
        decision_id=uuid4(),
        decided_at=now,
        decided_by_role=decided_by_role,
        purpose=Purpose.DELIVERY_RECEIPT,
        lawful_basis=LawfulBasis.PUBLIC_TASK,
        statutory_gateways=(RECEIPT_GATEWAY,),
        agreement=original.justification.agreement,
        data_categories=tuple(ReceiptV1.model_fields),
        necessity="Proof of delivery or refusal for accountability; holds no personal data.",
        consent=Consent(status=ConsentStatus.NOT_SOUGHT, reason="Not personal data."),
        retention=Retention(
            rule="Kept with the ledger entry of the message it answers.",
            review_date=(now + RECEIPT_RETENTION).date(),
        ),
    )
    return Draft(
        recipient=original.iss,
        message_type=RECEIPT,
        payload=payload,
        justification=justification,
        correlation_id=original.correlation_id,
        causation_id=original.jti,
    )
