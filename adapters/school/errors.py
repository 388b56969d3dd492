"""The school adapter's exception root and its errors.

Every error carries a stable snake_case `reason` code that the edge turns into an exit status,
a row report or a log line. Messages never hold personal data: no names, addresses,
identifiers or dates of birth, only codes, field names and the rule that failed.
"""

import re
from typing import Final

_REASON: Final = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


class SchoolError(Exception):
    """Root of every error the school adapter raises. `reason` is a stable code; `detail` a
    short fixed sentence for people that names the rule or field, never the pupil."""

    reason: str = "school_error"

    def __init__(self, reason: str | None = None, detail: str | None = None) -> None:
        code = reason or type(self).reason
        if not _REASON.match(code):
            # Reason codes are matched by machines; free text here could also leak data.
            raise ValueError("a reason code is snake_case")
        self.reason = code
        self.detail = detail
        super().__init__(f"{code}: {detail}" if detail else code)


class InvalidEvent(SchoolError):
    """An admission-register event the rules cannot act on (a bad field, a missing column)."""

    reason = "invalid_event"


class WrongSchool(SchoolError):
    """An event, file or message that belongs to another school."""

    reason = "wrong_school"


class UnreadableFile(SchoolError):
    """A whole export file that cannot be read (not CSV or CTF, too large, no header)."""

    reason = "unreadable_file"
