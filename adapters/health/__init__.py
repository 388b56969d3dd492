"""Health adapter: answers locate enquiries from a FHIR or local source (issue 5)."""
