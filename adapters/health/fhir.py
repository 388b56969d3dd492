"""`PatientIndex` over a FHIR R4 Patient search endpoint (the NHS Personal Demographics
Service, or any server that searches Patient by family, given, birthdate and identifier).

Plain `urllib` (no HTTP client library is a dependency). The search URL carries the child's
name and date of birth, so it never reaches a log line or an exception: failures become a
`SourceUnavailable` with a reason code only, raised with no cause or context (urllib's own
errors carry the URL). Redirects are refused (a redirect would hand the query to another host),
responses are size-limited, and every request has a timeout.

The search runs inside the inbox handler, so its time is bounded hard: the request is made on a
daemon thread and the caller waits at most `timeout_s` (or what is left of the enquiry's
`Deadline`), whatever the socket does (DNS, a server dribbling bytes). A request given up on
finishes on its own: its reads stop at the same instant.
"""

import json
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date
from http.client import HTTPException, HTTPResponse
from typing import Final
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import HTTPRedirectHandler, OpenerDirector, Request, build_opener

from adapters.health.fhir_parse import NHS_NUMBER_SYSTEM, parse_search
from adapters.health.model import PatientQuery, PatientSearch
from broker.responder import Deadline, SourceUnavailable

FHIR_JSON: Final = "application/fhir+json"
CHUNK_BYTES: Final = 65_536


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
        if self.timeout_s <= 0:
            raise ValueError("the FHIR timeout is positive")


class _NoRedirects(HTTPRedirectHandler):
    """Refuse redirects: urllib then raises the 3xx as an `HTTPError`."""

    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


def _timed_out() -> SourceUnavailable:
    return SourceUnavailable("FHIR search took too long", reason="fhir_timeout")


def _unreachable() -> SourceUnavailable:
    return SourceUnavailable("FHIR endpoint unreachable", reason="fhir_unreachable")


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

    def search(
        self, query: PatientQuery, today: date, deadline: Deadline | None = None
    ) -> PatientSearch:
        """Search, then read the Bundle, within `timeout_s` and what is left of `deadline`.
        Raises `SourceUnavailable` on any failure (a reason code, never the query)."""
        wait_s = self._config.timeout_s
        if deadline is not None:
            wait_s = min(wait_s, deadline.remaining())
        if wait_s <= 0:
            raise _timed_out()
        body = self._fetch_within(query, wait_s)
        failure: SourceUnavailable | None = None
        try:
            document = json.loads(body)
        except ValueError:
            failure = SourceUnavailable("FHIR response is not JSON", reason="fhir_response_invalid")
        if failure is not None:
            raise failure  # outside the handler: no context holding the body
        return parse_search(document, today)

    def _fetch_within(self, query: PatientQuery, wait_s: float) -> bytes:
        """The response body, fetched on a daemon thread the caller waits `wait_s` for."""
        until = time.monotonic() + wait_s
        outcome: list[bytes | SourceUnavailable] = []
        done = threading.Event()

        def run() -> None:
            try:
                outcome.append(self._fetch(query, wait_s, until))
            except SourceUnavailable as exc:
                outcome.append(exc)
            except Exception:  # a bug, or urllib: whatever it holds stays on this thread
                outcome.append(
                    SourceUnavailable("FHIR request failed", reason="fhir_request_failed")
                )
            finally:
                done.set()

        threading.Thread(target=run, name="fhir-search", daemon=True).start()
        if not done.wait(wait_s) or not outcome:
            raise _timed_out()
        (result,) = outcome
        if isinstance(result, SourceUnavailable):
            raise result
        return result

    def _fetch(self, query: PatientQuery, wait_s: float, until: float) -> bytes:
        """One GET, read in chunks until `until` (a monotonic instant). Every failure becomes
        a `SourceUnavailable` raised outside urllib's exception (which holds the URL)."""
        headers = {"Accept": FHIR_JSON, "X-Request-ID": str(uuid.uuid4())}
        if self._config.bearer_token:
            headers["Authorization"] = f"Bearer {self._config.bearer_token}"
        # S310: FhirConfig admits http(s) URLs only, so no file: or custom scheme is opened.
        request = Request(self.url_for(query), headers=headers, method="GET")  # noqa: S310
        failure: SourceUnavailable
        try:
            with self._opener.open(request, timeout=wait_s) as response:
                return self._read(response, until)
        except SourceUnavailable as exc:
            failure = exc
        except HTTPError as exc:
            status = exc.code
            exc.close()
            failure = SourceUnavailable(
                f"FHIR search answered HTTP {status}", reason="fhir_http_error"
            )
        except TimeoutError:
            failure = _timed_out()
        except URLError as exc:  # connecting failed; urllib wraps a connect timeout too
            timed_out = isinstance(exc.reason, TimeoutError)
            failure = _timed_out() if timed_out else _unreachable()
        except (OSError, HTTPException, ValueError):
            failure = _unreachable()
        raise failure

    def _read(self, response: HTTPResponse, until: float) -> bytes:
        """The body, refused when too large or not all there by `until` (`read1`: at most one
        socket read per chunk, so a dribbling server is noticed)."""
        limit = self._config.max_response_bytes
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read1(CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                raise SourceUnavailable("FHIR response too large", reason="fhir_response_invalid")
            if time.monotonic() > until:
                raise _timed_out()
            chunks.append(chunk)
        return b"".join(chunks)
