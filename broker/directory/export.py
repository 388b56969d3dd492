"""Signed directory export and its verifying import (for adapters and peer hubs to cache).

The export is a compact JWS (`typ: cme-directory+jwt`) signed by the hub's own Ed25519 key.
An importer pins the hub key by its RFC 7638 thumbprint (= its kid), obtained out of band:
the key itself travels inside the document, so the pin is what makes it trustworthy.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from joserfc.jwk import OKPKey
from pydantic import AwareDatetime, ValidationError

from broker import errors
from broker.directory.model import (
    Agency,
    AgencyStatus,
    DirectorySnapshot,
    KeyStatus,
    KeyUse,
    PublicKey,
)
from broker.envelope.jose import Jose
from schemas.base import WireModel

DIRECTORY_TYP = "cme-directory+jwt"
EXPORT_VALIDITY = timedelta(days=7)
_MAX_BYTES = 8 * 1024 * 1024


class KeyEntry(WireModel):
    """A public key in the export."""

    kid: str
    use: KeyUse
    jwk: dict[str, str]
    not_before: AwareDatetime
    not_after: AwareDatetime | None
    status: KeyStatus


class AgencyEntry(WireModel):
    """An agency in the export."""

    id: str
    kind: str
    name: str
    home_la: str
    status: AgencyStatus
    keys: tuple[KeyEntry, ...]


class DirectoryDocument(WireModel):
    """The signed payload: who issued it, when, until when it may be relied on, its serial
    (the directory revision: an importer refuses to go backwards, so replaying an export
    signed before a revocation cannot bring revoked keys back), and every agency's keys."""

    iss: str
    iat: AwareDatetime
    exp: AwareDatetime
    serial: int
    agencies: tuple[AgencyEntry, ...]


@dataclass(frozen=True)
class ImportedDirectory:
    """A verified export: its snapshot and the serial and dates it was issued with."""

    snapshot: DirectorySnapshot
    serial: int
    iat: datetime
    exp: datetime


def export_directory(
    snapshot: DirectorySnapshot,
    hub_id: str,
    hub_key: OKPKey,
    now: datetime,
    *,
    serial: int,
    valid_for: timedelta = EXPORT_VALIDITY,
) -> str:
    """Sign the whole directory with the hub's key; importers refuse it after `valid_for`."""
    by_agency: dict[str, list[KeyEntry]] = {}
    for key in snapshot.public_keys():
        by_agency.setdefault(key.agency_id, []).append(
            KeyEntry(
                kid=key.kid,
                use=key.use,
                jwk={k: str(v) for k, v in key.jwk.as_dict(private=False).items()},
                not_before=key.not_before,
                not_after=key.not_after,
                status=key.status,
            )
        )
    document = DirectoryDocument(
        iss=hub_id,
        iat=now,
        exp=now + valid_for,
        serial=serial,
        agencies=tuple(
            AgencyEntry(
                id=a.id,
                kind=a.kind,
                name=a.name,
                home_la=a.home_la,
                status=a.status,
                keys=tuple(by_agency.get(a.id, ())),
            )
            for a in snapshot.agencies()
        ),
    )
    body = document.model_dump_json().encode()
    return Jose(_MAX_BYTES).sign(body, hub_key, DIRECTORY_TYP)


def import_directory(
    text: str,
    trusted_hub_kids: frozenset[str],
    *,
    now: datetime | None,
    newer_than: int | None = None,
) -> ImportedDirectory:
    """Verify a signed export against pinned hub key thumbprints. Refuses an export expired at
    `now` (None: only when re-reading a copy already held), and one whose serial is not above
    `newer_than` (the serial of the copy already held)."""
    jose = Jose(_MAX_BYTES)
    try:
        parsed, kid = jose.parse_jws(text.strip(), DIRECTORY_TYP)
    except errors.EnvelopeError:
        raise errors.DirectorySignatureInvalid("not a directory export") from None
    if kid not in trusted_hub_kids:
        raise errors.DirectorySignatureInvalid("signed by a hub key that is not trusted")
    document = _parse(parsed.payload)
    hub_key = _find_hub_key(document, kid)
    try:
        jose.verify(parsed, hub_key)
    except errors.BadSignature:
        raise errors.DirectorySignatureInvalid("directory signature does not verify") from None
    if now is not None and document.exp <= now:
        raise errors.DirectorySignatureInvalid("directory export has expired")
    if newer_than is not None and document.serial <= newer_than:
        raise errors.DirectorySignatureInvalid("directory export is not newer than the copy held")
    return ImportedDirectory(_snapshot(document), document.serial, document.iat, document.exp)


def _parse(data: bytes) -> DirectoryDocument:
    try:
        return DirectoryDocument.model_validate(json.loads(data))
    except (ValidationError, ValueError):
        raise errors.DirectorySignatureInvalid("directory document is malformed") from None


def _find_hub_key(document: DirectoryDocument, kid: str) -> OKPKey:
    for agency in document.agencies:
        for entry in agency.keys:
            if entry.kid == kid and entry.use is KeyUse.SIG:
                key = OKPKey.import_key(dict(entry.jwk))
                # The pin is the thumbprint: the document cannot substitute another key.
                if key.thumbprint() != kid or entry.status is KeyStatus.REVOKED:
                    break
                return key
    raise errors.DirectorySignatureInvalid("the pinned hub key is not usable in the document")


def _snapshot(document: DirectoryDocument) -> DirectorySnapshot:
    agencies = [Agency(a.id, a.kind, a.name, a.home_la, a.status) for a in document.agencies]
    keys = [
        PublicKey(
            kid=k.kid,
            agency_id=a.id,
            use=k.use,
            jwk=OKPKey.import_key(dict(k.jwk)),
            not_before=k.not_before,
            not_after=k.not_after,
            status=k.status,
        )
        for a in document.agencies
        for k in a.keys
    ]
    return DirectorySnapshot(agencies, keys)
