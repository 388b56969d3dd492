"""The port every responder's records sit behind, and what a lookup can conclude.

A source answers only on a unique, confident match; anything else (no match, several, records
that disagree, a source that is down) sends the enquiry to the work list for a person. Never a
guess: a wrong "found" would send the LA to the wrong child's home. And `found` only with a
current location: the LA reads any `found` as the child located (it stops a school's deletion),
so a match whose records do not say where the child lives now (`LOCATION_UNCERTAIN`) goes to a
person too, with what the records hold (`Finding`).
"""

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from broker.responder.answer import LocateAnswer
from broker.responder.model import Finding
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
    """No confident answer: the enquiry waits on the work list. `reason` is a reason code;
    `finding` what the records hold that the person should see (e.g. a forwarding address)."""

    reason: str
    finding: Finding | None = None


LocateResult = Answered | Referred


class LocateSource(Protocol):
    """A responding agency's records, searched for the child an enquiry names."""

    def locate(self, enquiry: LocateEnquiryV1, today: date) -> LocateResult:
        """Answer from the records, or refer to a person. May raise `SourceUnavailable` (its
        message holds no personal data: no name, date of birth or search URL)."""
        ...


def asks_for_address(enquiry: LocateEnquiryV1) -> bool:
    """The LA asked where the child lives (an address is disclosed only then)."""
    return bool(ADDRESS_QUESTIONS.intersection(enquiry.questions))
