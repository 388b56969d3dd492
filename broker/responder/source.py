"""The port every responder's records sit behind, and what a lookup can conclude.

A source answers only on a unique, confident match; anything else (no match, several, records
that disagree, a source that is down) sends the enquiry to the work list for a person. Never a
guess: a wrong "found" would send the LA to the wrong child's home.
"""

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from broker.responder.answer import LocateAnswer
from schemas.messages.cme import LocateEnquiryV1, LocateQuestion

ADDRESS_QUESTIONS = frozenset({LocateQuestion.CURRENT_ADDRESS, LocateQuestion.WHEREABOUTS})


@dataclass(frozen=True)
class Answered:
    """The source answers on its own. `basis` is a reason code for the audit entry
    (`unique_match`, `restricted_record`, ...); `alert` (a reason code) also puts the enquiry
    before a person, who acknowledges it (e.g. a restricted record, a child protection plan)."""

    answer: LocateAnswer
    basis: str
    alert: str | None = None


@dataclass(frozen=True)
class Referred:
    """No confident answer: the enquiry waits on the work list. `reason` is a reason code."""

    reason: str


LocateResult = Answered | Referred


class LocateSource(Protocol):
    """A responding agency's records, searched for the child an enquiry names."""

    def locate(self, enquiry: LocateEnquiryV1, today: date) -> LocateResult:
        """Answer from the records, or refer to a person. May raise `SourceUnavailable`."""
        ...


def asks_for_address(enquiry: LocateEnquiryV1) -> bool:
    """The LA asked where the child lives (an address is disclosed only then)."""
    return bool(ADDRESS_QUESTIONS.intersection(enquiry.questions))
