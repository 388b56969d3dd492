"""The health adapter's port: where patients are searched (a FHIR endpoint, a local table)."""

from datetime import date
from typing import Protocol

from adapters.health.model import PatientQuery, PatientSearch
from broker.responder import Deadline


class PatientIndex(Protocol):
    """Searches registered patients by demographics (and NHS number when known)."""

    def search(
        self, query: PatientQuery, today: date, deadline: Deadline | None = None
    ) -> PatientSearch:
        """The patients matching `query` (addresses and GP current on `today`). A remote index
        gives up when `deadline` passes. Raises `broker.responder.SourceUnavailable` when the
        index cannot be searched now (its message never holds the query)."""
        ...
