"""Social care's `LocateSource`: find the child in the records, then apply the answer rules."""

from datetime import date

from adapters.social_care.ports import SocialCareRecords
from adapters.social_care.rules import decide
from broker.responder import LocateResult
from broker.responder.records import SubjectKey
from schemas.messages.cme import LocateEnquiryV1


class SocialCareSource:
    """Answers locate enquiries with the minimum: known or not, and the statutory status."""

    def __init__(self, records: SocialCareRecords) -> None:
        self._records = records

    def locate(self, enquiry: LocateEnquiryV1, today: date) -> LocateResult:
        """Answer on one child's records; refer anything else to a person."""
        return decide(enquiry, self._records.find(SubjectKey.of(enquiry.child)), today)
