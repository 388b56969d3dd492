"""Errors of the responders' work list and sources. Each carries a stable `reason` code.

Messages never hold personal data: no names, addresses, identifiers, dates of birth or search
URLs, only reason codes, the rule that failed and (for a bad source file) a line number and a
column name.
"""

import re
from typing import Final

from broker.errors import BrokerError

_REASON: Final = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


class ResponderError(BrokerError):
    """Root of the responder package's errors. A call site may give a more specific reason."""

    reason = "responder_error"

    def __init__(self, detail: str | None = None, *, reason: str | None = None) -> None:
        code = reason or type(self).reason
        if not _REASON.match(code):
            # Reason codes are matched by machines; free text here could also leak data.
            raise ValueError("a reason code is snake_case")
        self.reason = code
        self.detail = detail
        super().__init__(f"{code}: {detail}" if detail else code)


class WorkItemNotFound(ResponderError):
    """No such item on this agency's work list (another agency's item is not found either)."""

    reason = "work_item_not_found"


class AlreadyClosed(ResponderError):
    """The item was already answered or acknowledged: an enquiry is answered once."""

    reason = "already_answered"


class WrongKind(ResponderError):
    """An escalation or alert is acknowledged, not answered; an enquiry is answered."""

    reason = "wrong_kind"


class AnswerInvalid(ResponderError):
    """The answer breaks the locate response's rules (names the fields, never the values)."""

    reason = "answer_invalid"


class WorkItemUndecryptable(ResponderError):
    """A stored enquiry did not open: wrong key, altered, or moved to another row."""

    reason = "work_item_undecryptable"


class SourceUnavailable(ResponderError):
    """The agency's records could not be searched now (e.g. the FHIR endpoint is down).
    The enquiry then waits on the work list for a person: it is never answered by a guess."""

    reason = "source_unavailable"


class SourceDataInvalid(ResponderError):
    """A local records table is unusable; the detail names the line and column, not values."""

    reason = "source_data_invalid"
