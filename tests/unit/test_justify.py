"""Justifications filled from the agreements: accepted by the router's own check, refused at
the sender when no agreement permits the share."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from broker.agreements import AgreementRefusal, RefusalReason, ShareIntent, justify, load_agreements
from schemas.examples import example_payload, example_sender_recipient
from schemas.justification import LawfulBasis, Purpose
from schemas.registry import default_registry

AGREEMENTS = Path(__file__).parents[2] / "deploy" / "agreements"
AT = datetime(2026, 11, 30, 10, tzinfo=UTC)
TYPES = [t for t in default_registry().types() if t != "receipt"]


def intent(message_type: str, **changes: object) -> ShareIntent:
    sender, recipient = example_sender_recipient(message_type)
    payload = example_payload(message_type, sender=sender, recipient=recipient)
    fields = {
        "sender": sender,
        "recipient": recipient,
        "message_type": message_type,
        "payload": payload,
        "decided_by_role": "cme-officer",
        "necessity": "Needed to establish where the child is and whether they are safe.",
        **changes,
    }
    return ShareIntent(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("message_type", TYPES)
def test_every_flow_in_the_shipped_agreements_justifies_and_passes_the_router_check(
    message_type: str,
) -> None:
    book = load_agreements(AGREEMENTS)
    share = intent(message_type)
    justification = justify(book, share, AT)
    spec = default_registry().spec(message_type, default_registry().latest(message_type))
    permit = book.evaluate(
        sender=share.sender,
        recipient=share.recipient,
        message_type=message_type,
        special_category_spec=spec.special_category,
        justification=justification,
        at=AT,
    )
    assert permit.agreement_id == justification.agreement.id
    # Exactly what the payload fills, nothing the flow does not permit.
    empty = (None, (), "")
    filled = {n for n in type(share.payload).model_fields if getattr(share.payload, n) not in empty}
    assert set(justification.data_categories) == filled
    assert justification.retention.review_date > AT.date()


def test_a_share_no_agreement_permits_is_refused_at_the_sender() -> None:
    share = intent("school.deletion_return", recipient="health:RQ3")
    with pytest.raises(AgreementRefusal) as refused:
        justify(load_agreements(AGREEMENTS), share, AT)
    assert refused.value.reason in {r.value for r in RefusalReason}


def test_a_purpose_the_flow_does_not_list_is_refused() -> None:
    share = intent("school.deletion_return", purpose=Purpose.SAFEGUARDING_ESCALATION)
    with pytest.raises(AgreementRefusal):
        justify(load_agreements(AGREEMENTS), share, AT)


def test_a_preferred_lawful_basis_is_cited_when_the_flow_lists_it() -> None:
    book = load_agreements(AGREEMENTS)
    flow_bases = {
        b for a in book.agreements() for f in a.flows if "school.non_arrival" in f.message_types
        for b in f.lawful_bases
    }  # fmt: skip
    for basis in flow_bases:
        cited = justify(book, intent("school.non_arrival", lawful_basis=basis), AT)
        assert cited.lawful_basis is basis
    unlisted = next(b for b in LawfulBasis if b not in flow_bases)
    with pytest.raises(AgreementRefusal):
        justify(book, intent("school.non_arrival", lawful_basis=unlisted), AT)


def test_outside_the_agreement_period_nothing_is_permitted() -> None:
    share = intent("school.deletion_return")
    with pytest.raises(AgreementRefusal):
        justify(load_agreements(AGREEMENTS), share, datetime(2020, 1, 1, tzinfo=UTC))
