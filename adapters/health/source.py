"""Health's `LocateSource`: search the patient index, then apply the answer rules."""

import time
from datetime import date
from typing import Final

from adapters.health.ports import PatientIndex
from adapters.health.rules import decide, possible_matches, queries_for
from broker.responder import Deadline, LocateResult, Referred, SourceUnavailable
from broker.responder.guard import Monotonic
from broker.responder.model import SEVERAL_MATCHES
from schemas.messages.cme import LocateEnquiryV1

LOOKUP_TIMEOUT: Final = "lookup_timeout"
DEFAULT_BUDGET_S: Final = 15.0


class HealthSource:
    """Answers locate enquiries from a patient index (FHIR or a local table). One enquiry's
    searches (current surname, then each former one) share `budget_s` seconds in all."""

    def __init__(
        self,
        index: PatientIndex,
        budget_s: float = DEFAULT_BUDGET_S,
        clock: Monotonic = time.monotonic,
    ) -> None:
        self._index = index
        self._budget_s = budget_s
        self._clock = clock

    def locate(self, enquiry: LocateEnquiryV1, today: date) -> LocateResult:
        """Search by the current surname, then by each former one, until someone matches;
        answer only on a single unique match. May raise `SourceUnavailable` (also when the
        budget runs out before every search was made: fewer searches could miss a match)."""
        subject = enquiry.child
        deadline = Deadline(self._budget_s, self._clock)
        matches = []
        for query in queries_for(subject):
            if deadline.expired():
                raise SourceUnavailable("the searches ran out of time", reason=LOOKUP_TIMEOUT)
            result = self._index.search(query, today, deadline)
            if result.too_many:
                return Referred(SEVERAL_MATCHES)
            matches = possible_matches(result.patients, subject)
            if matches:
                break
        return decide(enquiry, matches, today)
