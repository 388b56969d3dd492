"""The checks one flow applies to a share's justification, in the order they are reported.

Each check returns None when the share passes it, or the refusal reason and the short check
name that go into `AgreementRefusal.rule`. They read metadata only (the justification's
enumerations, gateways, field names and dates), never a payload.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from broker.agreements.errors import RefusalReason
from broker.agreements.model import Flow
from schemas.justification import ConsentStatus, Justification, Purpose
from schemas.messages import safeguarding


@dataclass(frozen=True)
class Share:
    """What the router knows about a share: its type, whether the type's schema can carry
    special category data, and the sender's justification."""

    message_type: str
    special_category_spec: bool
    justification: Justification


Failure = tuple[RefusalReason, str]
Check = Callable[[Flow, Share], Failure | None]


def _purpose(flow: Flow, share: Share) -> Failure | None:
    if share.justification.purpose in flow.purposes:
        return None
    return RefusalReason.PURPOSE_NOT_PERMITTED, "purpose"


def _lawful_basis(flow: Flow, share: Share) -> Failure | None:
    if share.justification.lawful_basis in flow.lawful_bases:
        return None
    return RefusalReason.LAWFUL_BASIS_NOT_PERMITTED, "lawful_basis"


def _special_category(flow: Flow, share: Share) -> Failure | None:
    condition = share.justification.special_category
    if condition is not None:
        if condition in flow.special_category_conditions:
            return None
        return RefusalReason.SPECIAL_CATEGORY_CONDITION_NOT_PERMITTED, "special_category"
    # No condition cited: fine unless this flow's shares of this type are always special data.
    if share.special_category_spec and flow.special_category_required:
        return RefusalReason.SPECIAL_CATEGORY_CONDITION_MISSING, "special_category"
    return None


def _normal(gateway: str) -> str:
    return " ".join(gateway.split()).casefold()


def cites(cited: str, listed: str) -> bool:
    """Whether citing `cited` relies on the gateway `listed`: the same provision, or one of its
    subsections ("SI 2024/208 reg 13(4)" relies on "SI 2024/208 reg 13"). Case and spacing are
    ignored."""
    cited, listed = _normal(cited), _normal(listed)
    return cited == listed or cited.startswith(listed + "(")


def _gateway(flow: Flow, share: Share) -> Failure | None:
    for cited in share.justification.statutory_gateways:
        if any(cites(cited, listed) for listed in flow.statutory_gateways):
            return None
    return RefusalReason.GATEWAY_NOT_PERMITTED, "gateway"


def _data_categories(flow: Flow, share: Share) -> Failure | None:
    if set(share.justification.data_categories) <= set(flow.data_categories):
        return None
    return RefusalReason.DATA_CATEGORIES_NOT_PERMITTED, "data_categories"


def _is_escalation(flow: Flow, share: Share) -> bool:
    return (
        share.message_type == safeguarding.ESCALATION
        or share.justification.purpose is Purpose.SAFEGUARDING_ESCALATION
        or flow.is_safeguarding_escalation()
    )


def _consent(flow: Flow, share: Share) -> Failure | None:
    if _is_escalation(flow, share):
        # A safeguarding escalation is never refused for lack of consent: the duty to safeguard
        # supersedes it. The Flow model refuses consent_required on such flows; this holds it.
        assert not flow.consent_required, "an escalation flow is never consent-gated"
        return None
    if not flow.consent_required or share.justification.consent.status is ConsentStatus.OBTAINED:
        return None
    return RefusalReason.CONSENT_REQUIRED, "consent"


def _retention(flow: Flow, share: Share) -> Failure | None:
    justification = share.justification
    latest = justification.decided_at.date() + timedelta(days=flow.retention.max_days)
    if justification.retention.review_date <= latest:
        return None
    return RefusalReason.RETENTION_NOT_PERMITTED, "retention"


CHECKS: tuple[Check, ...] = (
    _purpose,
    _lawful_basis,
    _special_category,
    _gateway,
    _data_categories,
    _consent,
    _retention,
)
"""Applied in this order; the first failure is the flow's refusal."""


def first_failure(flow: Flow, share: Share) -> tuple[int, Failure] | None:
    """The position (in `CHECKS`) and the failure of the first check `share` fails on `flow`,
    or None when the flow permits it."""
    for position, check in enumerate(CHECKS):
        failure = check(flow, share)
        if failure is not None:
            return position, failure
    return None
