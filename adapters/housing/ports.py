"""The housing adapter's port: where tenancy and temporary-accommodation records are found."""

from typing import Protocol

from adapters.housing.model import TenancyRecord
from broker.responder.records import SubjectKey


class HousingRecords(Protocol):
    """Tenancy and temporary-accommodation records of household members."""

    def find(self, child: SubjectKey) -> list[TenancyRecord]:
        """Every record of a person matching the child (of one person or of several)."""
        ...
