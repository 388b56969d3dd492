"""Synthetic X.509 certificates for tests: a throwaway CA and the certificates it issues."""

from datetime import datetime, timedelta
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

CA_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Synthetic agencies CA")])


def issue(
    public_key: Ed25519PublicKey,
    issuer_key: Ed25519PrivateKey,
    valid: tuple[datetime, datetime],
    *,
    subject: str = "school.3304000",
    issuer: x509.Name = CA_NAME,
) -> x509.Certificate:
    """A certificate for `public_key`, signed by `issuer_key` (a CA's, or the holder's own for
    a forgery), valid from `valid[0]` to `valid[1]`."""
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .sign(issuer_key, None)
    )


def make_ca(now: datetime) -> tuple[Ed25519PrivateKey, x509.Certificate]:
    """A self-signed CA valid for a year around `now`."""
    key = Ed25519PrivateKey.generate()
    valid = (now - timedelta(days=365), now + timedelta(days=365))
    return key, issue(key.public_key(), key, valid, subject="Synthetic agencies CA")


def forwarded(certificate: x509.Certificate) -> str:
    """The certificate as a TLS proxy forwards it (URL-encoded PEM, like nginx's
    `$ssl_client_escaped_cert`)."""
    return quote(certificate.public_bytes(Encoding.PEM).decode())
