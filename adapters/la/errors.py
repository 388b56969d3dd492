"""The CME desk's exception root and the errors of its domain rules.

Every error carries a stable snake_case `reason` code that the edge turns into an HTTP status,
a case-worker message or an ack/reject decision. Messages never hold personal data: no names,
addresses, identifiers or dates of birth, only codes and the rule that failed.
"""

import re
from typing import Final

_REASON: Final = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


class DeskError(Exception):
    """Root of every error the desk raises. `reason` is a stable machine-readable code.

    Each subclass has a default `reason`; a call site may give a more specific one (e.g.
    `ClosureRefused("on_roll_needs_school")`). `detail` is a short fixed sentence for people:
    it names the rule, never the child.
    """

    reason: str = "desk_error"

    def __init__(self, reason: str | None = None, detail: str | None = None) -> None:
        code = reason or type(self).reason
        if not _REASON.match(code):
            # A reason code is matched by machines; free text here would also risk leaking data.
            raise ValueError("a reason code is snake_case")
        self.reason = code
        self.detail = detail
        super().__init__(f"{code}: {detail}" if detail else code)


class InvalidInput(DeskError):
    """A rule was given something it cannot act on (a message for another LA, an LA code that
    is not a current English LA, a case that has no joint enquiries)."""

    reason = "invalid_input"


class CalendarError(DeskError):
    """A date computation the calendars cannot answer (e.g. beyond a school's known terms)."""

    reason = "calendar_error"


class ClosureRefused(DeskError):
    """A case may not close with this outcome and evidence (`validate_closure`)."""

    reason = "closure_refused"


class InvalidSaoStep(DeskError):
    """A school attendance order step out of order, too early, or with too short a notice."""

    reason = "invalid_sao_step"
