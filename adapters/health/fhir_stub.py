"""A small PDS-like FHIR R4 server for tests and demonstrations: `GET /Patient` searched by
`family`, `given`, `birthdate` and `identifier` over synthetic Patient resources, on a free
port of 127.0.0.1, in a background thread. Standard library only.

Never for real data: it holds whatever it is given in memory and matches naively (exact
family name and date of birth, given name by prefix, all case-insensitive). With
`pds_too_many=True` it answers a search matching several patients as PDS's
application-restricted mode does: HTTP 200 with an `OperationOutcome` (`multiple-matches`).
"""

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, Self
from urllib.parse import parse_qs, urlsplit

from adapters.health.fhir_parse import CONFIDENTIALITY_SYSTEM, NHS_NUMBER_SYSTEM, ODS_SYSTEM

Resource = dict[str, Any]
FHIR_JSON: Final = "application/fhir+json"


def synthetic_patient(
    patient_id: str | None,
    *,
    family: str,
    given: str,
    birth_date: date,
    nhs_number: str | None = None,
    gp_ods: str | None = None,
    address: Mapping[str, Any] | None = None,
    restricted: bool = False,
    last_updated: str = "2026-10-01T09:30:00+00:00",
) -> Resource:
    """A Patient resource shaped like PDS's (made-up values only: ZZ99 postcodes, test NHS
    numbers). `address`: a FHIR Address (`line`, `city`, `postalCode`, `use`, `period`).
    `patient_id=None` leaves the id out (a broken server, for tests)."""
    code, display = ("R", "restricted") if restricted else ("U", "unrestricted")
    resource: Resource = {
        "resourceType": "Patient",
        **({"id": patient_id} if patient_id is not None else {}),
        "meta": {
            "versionId": "2",
            "lastUpdated": last_updated,
            "security": [{"system": CONFIDENTIALITY_SYSTEM, "code": code, "display": display}],
        },
        "name": [{"use": "usual", "family": family, "given": given.split()}],
        "birthDate": birth_date.isoformat(),
    }
    if nhs_number:
        resource["identifier"] = [{"system": NHS_NUMBER_SYSTEM, "value": nhs_number}]
    if gp_ods:
        identifier = {"system": ODS_SYSTEM, "value": gp_ods, "period": {"start": "2020-01-01"}}
        resource["generalPractitioner"] = [{"type": "Organization", "identifier": identifier}]
    if address is not None:
        resource["address"] = [dict(address)]
    return resource


def _matches(patient: Resource, params: Mapping[str, list[str]]) -> bool:
    names = patient.get("name", [])
    if "family" in params:
        wanted = params["family"][0].casefold()
        if not any(str(n.get("family", "")).casefold() == wanted for n in names):
            return False
    if "given" in params:
        wanted = params["given"][0].casefold()
        given = [str(g).casefold() for n in names for g in n.get("given", [])]
        if not any(g.startswith(wanted) for g in given):
            return False
    if "birthdate" in params:
        wanted = params["birthdate"][0].removeprefix("eq")
        if patient.get("birthDate") != wanted:
            return False
    if "identifier" in params:
        system, _, value = params["identifier"][0].partition("|")
        held = patient.get("identifier", [])
        if not any(i.get("system") == system and i.get("value") == value for i in held):
            return False
    return True


class FhirStub:
    """The server. Use as a context manager; `base_url` is where to point the adapter."""

    def __init__(self, patients: Iterable[Resource] = (), *, pds_too_many: bool = False) -> None:
        self.patients: list[Resource] = list(patients)
        self.pds_too_many = pds_too_many
        self.failing = False
        """When True, every request gets HTTP 503 (the endpoint is down)."""
        self.delay_s = 0.0
        """Seconds every answer waits before it is sent (a slow endpoint; cut short by stop)."""
        self.searches: list[dict[str, list[str]]] = []
        """The query parameters of every search received, in order."""
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._stopped = False

    @property
    def base_url(self) -> str:
        """The FHIR base URL (no trailing slash)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (again: nothing)."""
        if self._stopped:
            return
        self._stopped = True
        self._stopping.set()  # releases answers still waiting out `delay_s`
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def search(self, params: Mapping[str, list[str]]) -> tuple[int, Resource]:
        """The status and body answering one search."""
        self.searches.append(dict(params))
        if self.failing:
            return 503, _outcome("transient", "SERVICE_UNAVAILABLE")
        found: Sequence[Resource] = [p for p in self.patients if _matches(p, params)]
        if self.pds_too_many and len(found) > 1:
            return 200, _outcome("multiple-matches", "TOO_MANY_MATCHES")
        entries = [
            {
                **({"fullUrl": f"{self.base_url}/Patient/{p['id']}"} if "id" in p else {}),
                "resource": p,
                "search": {"mode": "match", "score": 1},
            }
            for p in found
        ]
        return 200, {"resourceType": "Bundle", "type": "searchset", "total": len(entries),
                     "entry": entries}  # fmt: skip

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path.rstrip("/") != "/Patient":
                    status, body = 404, _outcome("not-found", "INVALID_RESOURCE")
                else:
                    status, body = stub.search(parse_qs(url.query))
                if stub.delay_s:
                    stub._stopping.wait(stub.delay_s)
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", FHIR_JSON)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up waiting (a timeout test)

            def log_message(self, *_args: object) -> None:
                """Silent: a request line holds the searched child's name."""

        return Handler


def _outcome(code: str, detail: str) -> Resource:
    coding = {"system": "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode",
              "code": detail}  # fmt: skip
    issue = {"severity": "error", "code": code, "details": {"coding": [coding]}}
    return {"resourceType": "OperationOutcome", "issue": [issue]}
