"""The in-memory view of the directory used to seal and open messages.

A `DirectorySnapshot` is immutable: build a fresh one (from the database, or from a verified
signed export) to see a change. Public keys are parsed once, when the snapshot is built.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from joserfc.jwk import OKPKey

from broker import errors


class AgencyStatus(StrEnum):
    """Whether an agency may take part."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class KeyUse(StrEnum):
    """JWK `use`: signing or encryption."""

    SIG = "sig"
    ENC = "enc"


class KeyStatus(StrEnum):
    """Revocation is immediate; expiry is by `not_after`."""

    ACTIVE = "active"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Agency:
    """An agency as the directory knows it."""

    id: str
    kind: str
    name: str
    home_la: str
    status: AgencyStatus


@dataclass(frozen=True)
class PublicKey:
    """A public key with its validity window."""

    kid: str
    agency_id: str
    use: KeyUse
    jwk: OKPKey
    not_before: datetime
    not_after: datetime | None
    status: KeyStatus

    def check_usable(self, now: datetime, skew: timedelta) -> None:
        """Raise `RevokedKey` or `ExpiredKey` unless the key may be used at `now`."""
        if self.status is KeyStatus.REVOKED:
            raise errors.RevokedKey("key is revoked")
        if now + skew < self.not_before or (
            self.not_after is not None and now - skew > self.not_after
        ):
            raise errors.ExpiredKey("key is outside its validity window")


class KeyDirectory(Protocol):
    """What sealing and opening need from a directory."""

    def agency(self, agency_id: str) -> Agency:
        """The agency, or `AgencyNotFound`."""
        ...

    def public_key(self, kid: str) -> PublicKey:
        """The key with this kid, or `UnknownKey`."""
        ...

    def current_key(self, agency_id: str, use: KeyUse, now: datetime) -> PublicKey:
        """The newest usable key of this use, or `KeyNotAvailable`."""
        ...


class DirectorySnapshot:
    """An immutable `KeyDirectory` held in memory."""

    def __init__(self, agencies: Iterable[Agency], keys: Iterable[PublicKey]) -> None:
        self._agencies = {a.id: a for a in agencies}
        self._keys = {k.kid: k for k in keys}
        self._by_owner: dict[tuple[str, KeyUse], list[PublicKey]] = {}
        for key in self._keys.values():  # current_key runs on every seal: no full scan
            self._by_owner.setdefault((key.agency_id, key.use), []).append(key)

    def agencies(self) -> list[Agency]:
        """Every agency, sorted by id."""
        return sorted(self._agencies.values(), key=lambda a: a.id)

    def public_keys(self) -> list[PublicKey]:
        """Every key, sorted by agency then start of validity."""
        return sorted(self._keys.values(), key=lambda k: (k.agency_id, k.not_before, k.kid))

    def agency(self, agency_id: str) -> Agency:
        """The agency, or `AgencyNotFound`."""
        try:
            return self._agencies[agency_id]
        except KeyError:
            raise errors.AgencyNotFound("agency is not in the directory") from None

    def public_key(self, kid: str) -> PublicKey:
        """The key with this kid, or `UnknownKey`."""
        try:
            return self._keys[kid]
        except KeyError:
            raise errors.UnknownKey("key id is not in the directory") from None

    def current_key(self, agency_id: str, use: KeyUse, now: datetime) -> PublicKey:
        """The newest active key of this use that is valid now and has no end date set."""
        candidates = [
            k
            for k in self._by_owner.get((agency_id, use), ())
            if k.status is KeyStatus.ACTIVE
            and k.not_before <= now
            and (k.not_after is None or k.not_after > now)
        ]
        if not candidates:
            raise errors.KeyNotAvailable(f"no usable {use} key for the agency")
        return max(candidates, key=lambda k: (k.not_after is None, k.not_before))
