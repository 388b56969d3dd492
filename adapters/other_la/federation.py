"""Directory exchange between LA hubs: hold the peer LA's agencies as its hub signed them.

A hub imports its peer's signed directory export (`broker.directory.export.import_directory`,
pinned to the peer hub's key) and mirrors the agencies whose home LA is the peer's: their
status and public keys, with the validity windows the peer set. Its own agencies are never
taken from a peer, whatever the export says, and a revocation is never undone by an older
export. The router then routes to the peer's agencies (to the bridge) and verifies what they
send; nothing that decrypts a payload ever crosses.
"""

from dataclasses import dataclass

import structlog

from broker.agreements.parties import area_of
from broker.app import Container
from broker.directory.export import ImportedDirectory, export_directory, import_directory
from broker.directory.model import Agency
from broker.directory.store import SqlDirectoryStore

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Adopted:
    """What one import changed: the peer agencies mirrored, and those left alone."""

    mirrored: tuple[str, ...]
    changed: tuple[str, ...]
    ignored: tuple[str, ...]
    """Agencies in the export whose home is not the peer's LA (never taken from a peer)."""


def adopt_peer_directory(
    store: SqlDirectoryStore, imported: ImportedDirectory, peer_la: str, own_la: str
) -> Adopted:
    """Mirror the peer LA's agencies from its verified export into this hub's directory."""
    if peer_la == own_la:
        raise ValueError("a hub does not adopt its own LA's agencies from an export")
    snapshot = imported.snapshot
    held = {a.id: a for a in store.snapshot().agencies()}
    peers, ignored = [], []
    for agency in snapshot.agencies():
        if not _peer_owns(agency, peer_la, held.get(agency.id)):
            ignored.append(agency.id)
            continue
        keys = [k for k in snapshot.public_keys() if k.agency_id == agency.id]
        peers.append((agency, keys))
    changed = store.mirror(peers)
    log.info("federation.adopted", peer_la=peer_la, mirrored=len(peers), changed=len(changed))
    return Adopted(tuple(a.id for a, _ in peers), tuple(changed), tuple(ignored))


def _peer_owns(agency: Agency, peer_la: str, held: Agency | None) -> bool:
    """Whether the peer hub is the system of record for `agency`: homed in the peer's LA,
    in the peer's area when its id names one (a school, housing, social care, an LA: never
    one of ours under a peer's claim), and not an agency this hub registered itself."""
    if agency.home_la != peer_la:
        return False
    area = area_of(agency.id)
    if area is not None and area != peer_la:
        return False
    return held is None or held.home_la == peer_la


def adopt_from_peer(home: Container, peer: Container, peer_la: str, own_la: str) -> Adopted:
    """Both ends on one machine (the demo, tests): `peer` exports its signed directory and
    `home` adopts it, pinned to the peer hub's key, as `cme-broker peer adopt` would."""
    key = peer.hub_signing_key()
    text = export_directory(
        peer.snapshot(), peer.settings.hub_id, key, peer.clock(),
        serial=peer.directory_store.revision(),
    )  # fmt: skip
    imported = import_directory(text, frozenset({str(key.kid)}), now=home.clock())
    return adopt_peer_directory(home.directory_store, imported, peer_la, own_la)
