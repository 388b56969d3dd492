"""A child found in another LA's area: propose a cross-border notification to that LA.

No postcode lookup is available to the rules, so the caller says which LA the address in the
locate response lies in (`la_code`); the proposal is what the desk needs to build
`cme.cross_border_notification` besides the case's child, reference and risk flags.
"""

from datetime import date

from adapters.la.calendar import WorkingDayCalendar
from adapters.la.errors import InvalidInput
from adapters.la.rules._base import RuleValue
from adapters.la.rules.policy import DeskPolicy
from schemas.agency import LaId
from schemas.child import Address, LongText
from schemas.domain import CmeReason
from schemas.identifiers import check_la_code
from schemas.messages.cme import LocateOutcome, LocateResponseV1


class CrossBorderProposal(RuleValue):
    """A cross-border notification to send: to whom, about which address, due when."""

    from_la: LaId
    to_la: LaId
    believed_address: Address
    reason: CmeReason = CmeReason.MOVED_OTHER_LA
    evidence: LongText
    """Why this LA believes the child moved: fixed wording, no personal data."""
    respond_by: date


def propose_cross_border(
    response: LocateResponseV1,
    la_code: str,
    policy: DeskPolicy,
    calendar: WorkingDayCalendar,
    today: date,
) -> CrossBorderProposal | None:
    """A notification to the LA `la_code` when `response` found the child at an address there;
    None when the response has no address or the address is in this LA's own area. The
    receiving LA is asked to answer within the cross-border SLA (10 working days by default).

    Raises `InvalidInput` (`unknown_la_code`) when `la_code` is not a current English LA.
    """
    if response.outcome is not LocateOutcome.FOUND or response.current_address is None:
        return None
    try:
        check_la_code(la_code)
    except ValueError:
        raise InvalidInput("unknown_la_code", "not a current English LA code") from None
    if la_code == policy.la_code:
        return None
    evidence = (
        "A locate response found the child at an address in the receiving LA's area "
        f"(the respondent's record dated {response.evidence_date.isoformat()})."
    )
    return CrossBorderProposal(
        from_la=policy.la_id,
        to_la=f"la:{la_code}",
        believed_address=response.current_address,
        evidence=evidence,
        respond_by=calendar.add_working_days(today, policy.sla.cross_border),
    )
