"""Health's `LocateSource`: search the patient index, then apply the answer rules."""

from datetime import date

from adapters.health.ports import PatientIndex
from adapters.health.rules import decide, possible_matches, queries_for
from broker.responder import LocateResult, Referred
from broker.responder.model import SEVERAL_MATCHES
from schemas.messages.cme import LocateEnquiryV1


class HealthSource:
    """Answers locate enquiries from a patient index (FHIR or a local table)."""

    def __init__(self, index: PatientIndex) -> None:
        self._index = index

    def locate(self, enquiry: LocateEnquiryV1, today: date) -> LocateResult:
        """Search by the current surname, then by each former one, until someone matches;
        answer only on a single unique match. May raise `SourceUnavailable`."""
        subject = enquiry.child
        matches = []
        for query in queries_for(subject):
            result = self._index.search(query, today)
            if result.too_many:
                return Referred(SEVERAL_MATCHES)
            matches = possible_matches(result.patients, subject)
            if matches:
                break
        return decide(enquiry, matches, today)
