"""Same-day safeguarding escalation to children's social care.

A child with a child protection plan, in care, or at risk of harm who goes missing from
education is referred to children's social care the same day (Children Act 1989 s17/s47,
Children Act 2004 s11; `RiskFlag.needs_same_day_escalation`). The duty to safeguard overrides
data-protection hesitation: the escalation is never held back for consent.

The rule covers elective home education checks too: withdrawing a child with a protection plan
from school is exactly what social care must hear about at once.
"""

from collections.abc import Iterable

from schemas.domain import RiskFlag


def same_day_flags(
    risk_flags: Iterable[RiskFlag], already_escalated: Iterable[RiskFlag] = ()
) -> tuple[RiskFlag, ...]:
    """The risk flags that need a `safeguarding.escalation` today and were not escalated yet
    (a flag learnt later, e.g. from a locate response, escalates on its own day)."""
    done = set(already_escalated)
    present = {flag for flag in risk_flags if flag.needs_same_day_escalation}
    return tuple(flag for flag in RiskFlag if flag in present and flag not in done)


def needs_same_day_escalation(
    risk_flags: Iterable[RiskFlag], already_escalated: Iterable[RiskFlag] = ()
) -> bool:
    """True when the case needs a same-day `safeguarding.escalation` today."""
    return bool(same_day_flags(risk_flags, already_escalated))
