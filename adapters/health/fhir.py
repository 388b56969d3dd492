"""`PatientIndex` over a FHIR R4 Patient search endpoint (the NHS Personal Demographics
Service, or any server that searches Patient by family, given, birthdate and identifier).

Plain `urllib` (no HTTP client library is a dependency). The search URL carries the child's
name and date of birth, so it never reaches a log line or an exception: failures become a
`SourceUnavailable` with a reason code only. Redirects are refused (a redirect would hand the
query to another host), responses are size-limited, and every request has a timeout.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Final
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import HTTPRedirectHandler, OpenerDirector, Request, build_opener

from adapters.health.fhir_parse import NHS_NUMBER_SYSTEM, parse_search
from adapters.health.model import PatientQuery, PatientSearch
from broker.responder import SourceUnavailable

FHIR_JSON: Final = "application/fhir+json"


@dataclass(frozen=True)
class FhirConfig:
    """Where and how to search. `bearer_token`: an access token for the endpoint, if it needs
    one (PDS itself needs an NHS login or signed-JWT flow in front of this)."""

    base_url: str
    timeout_s: float = 10.0
    bearer_token: str | None = None
    max_response_bytes: int = 2_000_000

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ValueError("the FHIR base URL must be an http(s) URL")
        if parts.query or parts.fragment:
            raise ValueError("the FHIR base URL takes no query or fragment")


class _NoRedirects(HTTPRedirectHandler):
    """Refuse redirects: urllib then raises the 3xx as an `HTTPError`."""

    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


class FhirPatientIndex:
    """Searches patients on a FHIR R4 endpoint; one GET per search."""

    def __init__(self, config: FhirConfig) -> None:
        self._config = config
        self._opener: OpenerDirector = build_opener(_NoRedirects())

    def url_for(self, query: PatientQuery) -> str:
        """The search URL (personal data: never log it)."""
        params = [
            ("family", query.family),
            ("given", query.given),
            ("birthdate", f"eq{query.birth_date.isoformat()}"),
        ]
        if query.nhs_number:
            params.append(("identifier", f"{NHS_NUMBER_SYSTEM}|{query.nhs_number}"))
        return f"{self._config.base_url.rstrip('/')}/Patient?{urlencode(params)}"

    def search(self, query: PatientQuery, today: date) -> PatientSearch:
        """Search, then read the Bundle. Raises `SourceUnavailable` on any failure."""
        headers = {"Accept": FHIR_JSON, "X-Request-ID": str(uuid.uuid4())}
        if self._config.bearer_token:
            headers["Authorization"] = f"Bearer {self._config.bearer_token}"
        # S310: FhirConfig admits http(s) URLs only, so no file: or custom scheme is opened.
        request = Request(self.url_for(query), headers=headers, method="GET")  # noqa: S310
        try:
            with self._opener.open(request, timeout=self._config.timeout_s) as response:
                body = response.read(self._config.max_response_bytes + 1)
        except HTTPError as exc:
            status = exc.code
            exc.close()
            raise SourceUnavailable(
                f"FHIR search answered HTTP {status}", reason="fhir_http_error"
            ) from None
        except (URLError, TimeoutError, OSError):
            raise SourceUnavailable(
                "FHIR endpoint unreachable", reason="fhir_unreachable"
            ) from None
        if len(body) > self._config.max_response_bytes:
            raise SourceUnavailable("FHIR response too large", reason="fhir_response_invalid")
        try:
            document = json.loads(body)
        except ValueError:
            raise SourceUnavailable(
                "FHIR response is not JSON", reason="fhir_response_invalid"
            ) from None
        return parse_search(document, today)
