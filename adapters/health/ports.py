"""The health adapter's port: where patients are searched (a FHIR endpoint, a local table)."""

from datetime import date
from typing import Protocol

from adapters.health.model import PatientQuery, PatientSearch


class PatientIndex(Protocol):
    """Searches registered patients by demographics (and NHS number when known)."""

    def search(self, query: PatientQuery, today: date) -> PatientSearch:
        """The patients matching `query` (addresses and GP current on `today`). Raises
        `broker.responder.SourceUnavailable` when the index cannot be searched now."""
        ...
