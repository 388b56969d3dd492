"""Social care's port: where the children known to it are found."""

from typing import Protocol

from adapters.social_care.model import KnownChild
from broker.responder.records import SubjectKey


class SocialCareRecords(Protocol):
    """The children known to children's social care."""

    def find(self, child: SubjectKey) -> list[KnownChild]:
        """Every record of a child matching the enquiry's (of one child or of several)."""
        ...
