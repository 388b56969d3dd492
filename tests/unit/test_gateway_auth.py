"""Gateway authentication without I/O: client assertions and proxy-forwarded certificates
against an in-memory directory."""

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from joserfc.jwk import OKPKey

from broker.directory.model import (
    Agency,
    AgencyStatus,
    DirectorySnapshot,
    KeyStatus,
    KeyUse,
    PublicKey,
)
from broker.envelope.replay import MemoryReplayCache
from broker.gateway.auth import (
    AssertionPolicy,
    AssertionVerifier,
    ProxyCertificateAuthenticator,
    make_assertion,
)
from broker.gateway.errors import Forbidden, Unauthenticated
from tests.certificates import forwarded, issue, make_ca

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
SCHOOL = "school:3304001"


def _clock() -> datetime:
    return NOW


def _key() -> tuple[Ed25519PrivateKey, OKPKey]:
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    return private, OKPKey.import_key(pem, {"kid": "k-" + str(id(private))})


def _directory(
    jwk: OKPKey,
    status: AgencyStatus = AgencyStatus.ACTIVE,
    key_status: KeyStatus = KeyStatus.ACTIVE,
) -> DirectorySnapshot:
    agency = Agency(SCHOOL, "school", "Synthetic school", "330", status)
    public = OKPKey.import_key(jwk.as_dict(private=False))
    key = PublicKey(
        jwk.kid or "", SCHOOL, KeyUse.SIG, public, NOW - timedelta(days=1), None, key_status
    )
    return DirectorySnapshot([agency], [key])


CA_KEY, CA = make_ca(NOW)


def _certificate(
    private: Ed25519PrivateKey, *, days: int = 30, issuer_key: Ed25519PrivateKey = CA_KEY
) -> str:
    """A client certificate for `private`'s public key, issued by the CA unless told."""
    valid = (NOW - timedelta(days=10), NOW + timedelta(days=days))
    return forwarded(issue(private.public_key(), issuer_key, valid, subject="school.3304001"))


def test_an_assertion_proves_its_agency_once() -> None:
    _, jwk = _key()
    verifier = AssertionVerifier(
        lambda: _directory(jwk), MemoryReplayCache(_clock), AssertionPolicy("hub:330"), _clock
    )
    token = make_assertion(SCHOOL, jwk, "hub:330", NOW)
    assert verifier.authenticate(token) == SCHOOL
    with pytest.raises(Unauthenticated) as replayed:
        verifier.authenticate(token)
    assert replayed.value.reason == "assertion_replayed"


def test_an_assertion_of_a_suspended_agency_is_forbidden() -> None:
    _, jwk = _key()
    directory = _directory(jwk, status=AgencyStatus.SUSPENDED)
    verifier = AssertionVerifier(
        lambda: directory, MemoryReplayCache(_clock), AssertionPolicy("hub:330"), _clock
    )
    with pytest.raises(Forbidden) as refused:
        verifier.authenticate(make_assertion(SCHOOL, jwk, "hub:330", NOW))
    assert refused.value.reason == "agency_not_active"


def test_an_oversized_assertion_is_refused_before_parsing() -> None:
    _, jwk = _key()
    verifier = AssertionVerifier(
        lambda: _directory(jwk), MemoryReplayCache(_clock), AssertionPolicy("hub:330"), _clock
    )
    with pytest.raises(Unauthenticated) as refused:
        verifier.authenticate("a" * 5000)
    assert refused.value.reason == "assertion_malformed"


def test_a_certificate_for_a_registered_key_proves_its_agency() -> None:
    private, jwk = _key()
    authenticator = ProxyCertificateAuthenticator(lambda: _directory(jwk), [CA], _clock)
    assert authenticator.authenticate(_certificate(private)) == SCHOOL


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("unregistered", "certificate_unknown"),
        ("revoked", "certificate_unknown"),
        ("expired", "certificate_expired"),
        ("garbage", "certificate_invalid"),
        ("self-issued", "certificate_invalid"),
    ],
)
def test_unusable_certificates_are_refused(case: str, reason: str) -> None:
    private, jwk = _key()
    key_status = KeyStatus.REVOKED if case == "revoked" else KeyStatus.ACTIVE
    authenticator = ProxyCertificateAuthenticator(
        lambda: _directory(jwk, key_status=key_status), [CA], _clock
    )
    forwarded = {
        "unregistered": _certificate(Ed25519PrivateKey.generate()),
        "revoked": _certificate(private),
        "expired": _certificate(private, days=-2),
        "garbage": quote("-----BEGIN CERTIFICATE-----\nnot a certificate\n"),
        # The registered key, the CA's name, but signed by the caller: a forged header.
        "self-issued": _certificate(private, issuer_key=private),
    }[case]
    with pytest.raises(Unauthenticated) as refused:
        authenticator.authenticate(forwarded)
    assert refused.value.reason == reason
