"""Directory exchange between hubs: a peer's agencies are mirrored as its hub signed them,
own agencies are never taken from a peer, and a revocation is final."""

from pathlib import Path

import pytest

from adapters.other_la.federation import adopt_peer_directory
from broker.app import Container
from broker.directory.export import export_directory, import_directory
from broker.directory.model import AgencyStatus, KeyStatus
from broker.settings import Settings
from tests.clock import Clock


def hub(path: Path, hub_id: str, clock: Clock) -> Container:
    settings = Settings(data_dir=path, hub_id=hub_id)
    return Container(settings, clock=clock)


def export(container: Container) -> tuple[str, str]:
    key = container.hub_signing_key()
    text = export_directory(
        container.snapshot(),
        container.settings.hub_id,
        key,
        container.clock(),
        serial=container.directory_store.revision(),
    )
    return text, str(key.kid)


def adopt(home: Container, peer: Container) -> tuple[str, ...]:
    text, kid = export(peer)
    imported = import_directory(text, frozenset({kid}), now=home.clock())
    return adopt_peer_directory(home.directory_store, imported, "331", "330").changed


@pytest.fixture
def hubs(tmp_path: Path, clock: Clock) -> tuple[Container, Container]:
    a, b = hub(tmp_path / "a", "hub:330", clock), hub(tmp_path / "b", "hub:331", clock)
    a.directory_store.add_agency("la:330", "LA 330", "330")
    b.directory_store.add_agency("la:331", "LA 331", "331")
    # The peer claims an agency of LA 330: never taken from it.
    b.directory_store.add_agency("school:3304999", "Not the peer's", "330")
    return a, b


def test_peer_agencies_are_mirrored_with_their_keys(hubs: tuple[Container, Container]) -> None:
    a, b = hubs
    assert set(adopt(a, b)) == {"la:331", "hub:331"}
    mirrored = {k.kid: k for k in a.snapshot().public_keys() if k.agency_id == "la:331"}
    assert mirrored.keys() == {k.kid for k in b.snapshot().public_keys() if k.agency_id == "la:331"}
    assert "school:3304999" not in {x.id for x in a.snapshot().agencies()}
    assert adopt(a, b) == ()  # nothing changed: the revision does not move


def test_revocations_and_suspensions_follow_and_a_revocation_is_final(
    hubs: tuple[Container, Container],
) -> None:
    a, b = hubs
    old_text, kid = export(b)
    adopt(a, b)
    (sig,) = [k for k in b.snapshot().public_keys() if k.agency_id == "la:331" and k.use == "sig"]
    b.directory_store.revoke_key(sig.kid)
    b.directory_store.set_status("la:331", AgencyStatus.SUSPENDED)
    assert adopt(a, b) == ("la:331",)
    held = {k.kid: k for k in a.snapshot().public_keys()}
    assert held[sig.kid].status is KeyStatus.REVOKED
    assert a.snapshot().agency("la:331").status is AgencyStatus.SUSPENDED
    # An older export (here re-read without the freshness check) cannot revive the key.
    b.directory_store.set_status("la:331", AgencyStatus.REVOKED)
    adopt(a, b)
    assert a.snapshot().agency("la:331").status is AgencyStatus.REVOKED
    stale = import_directory(old_text, frozenset({kid}), now=None)
    adopt_peer_directory(a.directory_store, stale, "331", "330")
    assert {k.kid: k for k in a.snapshot().public_keys()}[sig.kid].status is KeyStatus.REVOKED
    assert a.snapshot().agency("la:331").status is AgencyStatus.REVOKED


def test_a_peer_cannot_claim_an_agency_of_our_area_or_one_we_registered(
    hubs: tuple[Container, Container],
) -> None:
    a, b = hubs
    a.directory_store.add_agency("health:M85001", "Our GP", "330")
    b.directory_store.add_agency("school:3304998", "Claims to be ours", "331")
    b.directory_store.add_agency("health:M85001", "Claims our GP", "331")
    b.directory_store.add_agency("health:M86001", "Their GP", "331")
    text, kid = export(b)
    imported = import_directory(text, frozenset({kid}), now=a.clock())
    adopted = adopt_peer_directory(a.directory_store, imported, "331", "330")
    assert {"school:3304998", "health:M85001"} <= set(adopted.ignored)
    assert "health:M86001" in adopted.mirrored
    held = {x.id: x for x in a.snapshot().agencies()}
    assert "school:3304998" not in held
    assert held["health:M85001"].home_la == "330"


def test_a_hub_does_not_adopt_its_own_la(hubs: tuple[Container, Container]) -> None:
    a, b = hubs
    text, kid = export(b)
    imported = import_directory(text, frozenset({kid}), now=a.clock())
    with pytest.raises(ValueError, match="own"):
        adopt_peer_directory(a.directory_store, imported, "330", "330")
