"""Housing's `LocateSource`: find the child's records, then apply the answer rules."""

from datetime import date

from adapters.housing.ports import HousingRecords
from adapters.housing.rules import decide
from broker.responder import LocateResult
from broker.responder.records import SubjectKey
from schemas.messages.cme import LocateEnquiryV1


class HousingSource:
    """Answers locate enquiries from tenancy and temporary-accommodation records."""

    def __init__(self, records: HousingRecords) -> None:
        self._records = records

    def locate(self, enquiry: LocateEnquiryV1, today: date) -> LocateResult:
        """Answer on one person's agreeing records; refer anything else to a person."""
        return decide(enquiry, self._records.find(SubjectKey.of(enquiry.child)), today)
