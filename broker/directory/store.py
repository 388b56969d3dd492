"""The directory's system of record in SQL: create agencies with keys, rotate, suspend, revoke."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from joserfc.jwk import OKPKey
from sqlalchemy import Engine
from sqlmodel import Session, select

from broker import errors
from broker.clock import Clock, utc_now
from broker.directory.keystore import FileKeystore
from broker.directory.model import (
    Agency,
    AgencyStatus,
    DirectorySnapshot,
    KeyStatus,
    KeyUse,
    PublicKey,
)
from broker.directory.tables import AgencyRow, DirectoryRevisionRow, KeyRow, as_utc
from schemas.agency import AgencyKind, check_agency_id, code_of, kind_of

_REVISION = select(DirectoryRevisionRow.value).where(DirectoryRevisionRow.id == 1)
_CURVES: dict[KeyUse, Literal["Ed25519", "X25519"]] = {KeyUse.SIG: "Ed25519", KeyUse.ENC: "X25519"}


def new_key(use: KeyUse) -> OKPKey:
    """A fresh Ed25519 (sig) or X25519 (enc) key whose kid is its RFC 7638 thumbprint."""
    return OKPKey.generate_key(_CURVES[use], parameters={"use": use.value}, auto_kid=True)


def key_uses(agency_id: str) -> tuple[KeyUse, ...]:
    """A hub only signs (directory exports, checkpoints, refusal receipts): it gets no
    encryption key, so no message can ever be addressed to, and read by, the hub."""
    return (KeyUse.SIG,) if kind_of(agency_id) is AgencyKind.HUB else tuple(KeyUse)


def generate_keys(agency_id: str, keystore: FileKeystore) -> list[OKPKey]:
    """New key pairs for an agency: private halves into `keystore` (the agency's own
    machine), public halves returned for registration at the hub."""
    keys = []
    for use in key_uses(agency_id):
        key = new_key(use)
        keystore.save(agency_id, key)
        keys.append(OKPKey.import_key(key.as_dict(private=False)))
    return keys


def checked_public_keys(agency_id: str, keys: Sequence[OKPKey]) -> list[OKPKey]:
    """Refuse anything but one public key per use, on the right curve, kid = thumbprint."""
    curves = {KeyUse.SIG: "Ed25519", KeyUse.ENC: "X25519"}
    by_use: dict[KeyUse, OKPKey] = {}
    for key in keys:
        data = key.as_dict(private=False)
        try:
            use = KeyUse(str(data.get("use", "")))
        except ValueError:
            raise errors.DirectoryError("each key needs use sig or enc") from None
        if key.is_private or data.get("crv") != curves[use] or key.kid != key.thumbprint():
            raise errors.DirectoryError(f"the {use} key must be a public {curves[use]} JWK "
                                        "whose kid is its RFC 7638 thumbprint")  # fmt: skip
        if use in by_use:
            raise errors.DirectoryError(f"more than one {use} key")
        by_use[use] = key
    if set(by_use) != set(key_uses(agency_id)):
        raise errors.DirectoryError("expected exactly the keys: " + ", ".join(key_uses(agency_id)))
    return list(by_use.values())


def home_la_of(agency_id: str) -> str | None:
    """The LA code implied by an agency id, where its code starts with one."""
    kind, code = kind_of(agency_id), code_of(agency_id)
    if kind in (AgencyKind.LA, AgencyKind.SOCIAL_CARE, AgencyKind.HUB, AgencyKind.SCHOOL):
        return code[:3]
    if code[:3].isdigit() and code[3:4] == "-":
        return code[:3]
    return None


@dataclass(frozen=True)
class KeyPolicy:
    """How long a rotated-out key stays valid for verification and decryption."""

    rotation_overlap: timedelta = timedelta(days=30, minutes=5)
    """At least the longest message lifetime plus clock skew, so that every message signed
    before a rotation can still be verified until it expires."""


class SqlDirectoryStore:
    """Reads and changes the directory in the database; private keys go to the keystore."""

    def __init__(
        self,
        engine: Engine,
        keystore: FileKeystore,
        policy: KeyPolicy | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._engine = engine
        self._keystore = keystore
        self._policy = policy or KeyPolicy()
        self._clock = clock

    def add_agency(
        self,
        agency_id: str,
        name: str,
        home_la: str | None = None,
        public_keys: Sequence[OKPKey] | None = None,
    ) -> Agency:
        """Register an agency. With `public_keys` (made by the agency itself with
        `generate_keys`), only those public keys are recorded and no private key ever exists
        here; without them (development, demos), fresh key pairs go to this keystore."""
        check_agency_id(agency_id)
        la = home_la or home_la_of(agency_id)
        if la is None:
            raise errors.DirectoryError("this kind of agency needs an explicit home LA")
        now = self._clock()
        with Session(self._engine) as session:
            if session.get(AgencyRow, agency_id) is not None:
                raise errors.AgencyExists("an agency with this id exists")
            row = AgencyRow(
                id=agency_id,
                kind=kind_of(agency_id).value,
                name=name,
                home_la=la,
                status=AgencyStatus.ACTIVE.value,
                created_at=now,
            )
            session.add(row)
            session.flush()
            self._add_keys(session, agency_id, now, public_keys)
            _bump_revision(session)
            session.commit()
            return _agency(row)

    def rotate_keys(self, agency_id: str, public_keys: Sequence[OKPKey] | None = None) -> list[str]:
        """New key pairs sign and receive from now; the old ones stay valid for the overlap."""
        now = self._clock()
        retire_at = now + self._policy.rotation_overlap
        with Session(self._engine) as session:
            if self._require(session, agency_id).status == AgencyStatus.REVOKED.value:
                raise errors.DirectoryError("a revoked agency cannot get new keys")
            for key in self._active_keys(session, agency_id):
                # Only ever bring an end date forward: a later rotation must not extend the
                # life of a key an earlier rotation already retired.
                if key.not_after is None or as_utc(key.not_after) > retire_at:
                    key.not_after = retire_at
                    session.add(key)
            kids = self._add_keys(session, agency_id, now, public_keys)
            _bump_revision(session)
            session.commit()
        return kids

    def set_status(self, agency_id: str, status: AgencyStatus) -> None:
        """Suspend, reinstate or revoke an agency; revoking also revokes all its keys at once."""
        with Session(self._engine) as session:
            row = self._require(session, agency_id)
            if row.status == AgencyStatus.REVOKED.value and status is not AgencyStatus.REVOKED:
                raise errors.DirectoryError("a revoked agency cannot be reinstated")
            row.status = status.value
            session.add(row)
            if status is AgencyStatus.REVOKED:
                for key in self._active_keys(session, agency_id):
                    key.status = KeyStatus.REVOKED.value
                    session.add(key)
            _bump_revision(session)
            session.commit()

    def revoke_key(self, kid: str) -> None:
        """Revoke one key at once (e.g. a compromised key) without touching the agency."""
        with Session(self._engine) as session:
            key = session.get(KeyRow, kid)
            if key is None:
                raise errors.UnknownKey("key id is not in the directory")
            key.status = KeyStatus.REVOKED.value
            session.add(key)
            _bump_revision(session)
            session.commit()

    def mirror(self, peers: Sequence[tuple[Agency, Sequence[PublicKey]]]) -> list[str]:
        """Hold a peer hub's agencies as its hub's verified export describes them (status,
        keys, validity windows), in one transaction, so this hub can route to them and verify
        what they send. Only for agencies another hub is the system of record for: the
        caller checks that. A revocation (of an agency or a key) is final and a key's
        validity is only ever narrowed, whatever an older export says. Returns the agencies
        that changed (the revision moves only then)."""
        for agency, keys in peers:
            if any(k.agency_id != agency.id for k in keys):
                raise errors.DirectoryError("a mirrored key belongs to another agency")
            if any(k.jwk.thumbprint() != k.kid for k in keys):
                raise errors.DirectoryError("a mirrored key id is not its key's thumbprint")
        now, changed = self._clock(), []
        with Session(self._engine) as session:
            for agency, keys in peers:
                moved = _mirror_agency(session, agency, now)
                for key in keys:
                    moved = _mirror_key(session, key, now) or moved
                if moved:
                    changed.append(agency.id)
            if changed:
                _bump_revision(session)
                session.commit()
        return changed

    def revision(self) -> int:
        """The directory's change counter (cheap: one row, read with a prepared Core query:
        every seal, open and router batch asks, so an ORM session here cost a quarter of a
        school's send)."""
        with self._engine.connect() as connection:
            value = connection.execute(_REVISION).scalar()
            return int(value) if value is not None else 0

    def snapshot(self) -> DirectorySnapshot:
        """A fresh in-memory view (reflects revocations made up to now)."""
        with Session(self._engine) as session:
            agencies = [_agency(r) for r in session.exec(select(AgencyRow))]
            keys = [_public_key(r) for r in session.exec(select(KeyRow))]
        return DirectorySnapshot(agencies, keys)

    def _add_keys(
        self,
        session: Session,
        agency_id: str,
        now: datetime,
        public_keys: Sequence[OKPKey] | None,
    ) -> list[str]:
        if public_keys is None:
            public_keys = generate_keys(agency_id, self._keystore)
        kids = []
        for key in checked_public_keys(agency_id, public_keys):
            use = KeyUse(str(key.as_dict()["use"]))
            session.add(
                KeyRow(
                    kid=str(key.kid),
                    agency_id=agency_id,
                    use=use.value,
                    public_jwk=json.dumps(key.as_dict(private=False)),
                    not_before=now,
                    status=KeyStatus.ACTIVE.value,
                    created_at=now,
                )
            )
            kids.append(str(key.kid))
        return kids

    @staticmethod
    def _require(session: Session, agency_id: str) -> AgencyRow:
        row = session.get(AgencyRow, agency_id)
        if row is None:
            raise errors.AgencyNotFound("agency is not in the directory")
        return row

    @staticmethod
    def _active_keys(session: Session, agency_id: str) -> list[KeyRow]:
        query = select(KeyRow).where(
            KeyRow.agency_id == agency_id, KeyRow.status == KeyStatus.ACTIVE.value
        )
        return list(session.exec(query))


def _mirror_agency(session: Session, agency: Agency, now: datetime) -> bool:
    row = session.get(AgencyRow, agency.id)
    if row is None:
        row = AgencyRow(id=agency.id, kind=agency.kind, name=agency.name, home_la=agency.home_la,
                        status=agency.status.value, created_at=now)  # fmt: skip
        session.add(row)
        session.flush()
        return True
    if row.home_la != agency.home_la:
        raise errors.DirectoryError("a mirrored agency cannot move to another home LA")
    # A revocation is final: an older export cannot bring a revoked agency back.
    status = row.status if row.status == AgencyStatus.REVOKED.value else agency.status.value
    if (row.name, row.status) == (agency.name, status):
        return False
    row.name, row.status = agency.name, status
    session.add(row)
    session.flush()
    return True


def _mirror_key(session: Session, key: PublicKey, now: datetime) -> bool:
    row = session.get(KeyRow, key.kid)
    if row is None:
        session.add(
            KeyRow(kid=key.kid, agency_id=key.agency_id, use=key.use.value,
                   public_jwk=json.dumps(key.jwk.as_dict(private=False)), created_at=now,
                   not_before=key.not_before, not_after=key.not_after, status=key.status.value)
        )  # fmt: skip
        return True
    if row.agency_id != key.agency_id:
        raise errors.DirectoryError("a mirrored key id belongs to another agency")
    if row.status == KeyStatus.REVOKED.value:
        return False  # a revocation is final, whatever an older export says
    held_end = as_utc(row.not_after) if row.not_after else None
    # Validity is only ever narrowed: an older export cannot extend a retired key's life.
    ends = [e for e in (held_end, key.not_after) if e is not None]
    end = min(ends) if ends else None
    if (row.status, held_end) == (key.status.value, end):
        return False
    row.status, row.not_after = key.status.value, end
    session.add(row)
    return True


def _bump_revision(session: Session) -> None:
    row = session.get(DirectoryRevisionRow, 1) or DirectoryRevisionRow(id=1, value=0)
    row.value += 1
    session.add(row)


def _agency(row: AgencyRow) -> Agency:
    return Agency(row.id, row.kind, row.name, row.home_la, AgencyStatus(row.status))


def _public_key(row: KeyRow) -> PublicKey:
    return PublicKey(
        kid=row.kid,
        agency_id=row.agency_id,
        use=KeyUse(row.use),
        jwk=OKPKey.import_key(json.loads(row.public_jwk)),
        not_before=as_utc(row.not_before),
        not_after=as_utc(row.not_after) if row.not_after else None,
        status=KeyStatus(row.status),
    )
