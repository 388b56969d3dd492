"""Make throwaway TLS material and secrets for trying the production-shaped stack.

    .venv/bin/python deploy/tls/make_dev_ca.py --out deploy/secrets [--agency school:3304000]

Writes, under OUT (refusing to touch an existing one):

    ca/ca.crt, ca/ca.key              the throwaway certificate authority
    rabbitmq/{ca.crt,tls.crt,tls.key} the RabbitMQ nodes' server certificate
    cme-router/..., cme-gateway/...   client certificates (CN = the AMQP user name)
    gateway-https/...                 the gateway proxy's HTTPS server certificate
    agencies/<routing word>/...       a client certificate per --agency (CN = routing word)
    cme.env, postgres.env, rabbitmq.env   random pseudonym key, database password, Erlang cookie

Each identity's directory holds `ca.crt`, `tls.crt` and `tls.key`, the layout of a Kubernetes
TLS secret (`kubectl create secret generic NAME --from-file=DIR/`). Private keys are mode 0600
unless --readable-keys: the compose stack bind-mounts them into containers that run as other
users (RabbitMQ 999, the broker 10001, nginx 101), which cannot read a 0600 file they do not
own. This is for a local try-out only: never use these files for real data, never commit them
(deploy/.gitignore ignores deploy/secrets/), and in production take keys from your PKI.
"""

import argparse
import datetime
import ipaddress
import os
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from broker.transport.definitions import GATEWAY_USER, ROUTER_USER
from broker.transport.topology import routing_word

VALIDITY = datetime.timedelta(days=30)
RABBITMQ_NAMES = ("rabbitmq", "rabbitmq-1", "rabbitmq-2", "rabbitmq-3", "localhost")
"""The compose stack's node host names and its round-robin alias (deploy/compose.yml)."""
GATEWAY_NAMES = ("localhost", "gateway")


@dataclass(frozen=True)
class Issued:
    """A key pair and its certificate."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CME broker (throwaway)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_ca(now: datetime.datetime) -> Issued:
    """A self-signed CA that may only sign end-entity certificates."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("CME broker throwaway CA")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(key, cert)


def issue(
    ca: Issued,
    common_name: str,
    *,
    server_names: Sequence[str] = (),
    client: bool = False,
    now: datetime.datetime,
) -> Issued:
    """An end-entity certificate: a server one for `server_names` (DNS names or IP addresses),
    a client one when `client`."""
    key = ec.generate_private_key(ec.SECP256R1())
    usages = [ExtendedKeyUsageOID.SERVER_AUTH] if server_names else []
    usages += [ExtendedKeyUsageOID.CLIENT_AUTH] if client else []
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    if server_names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_general_name(n) for n in server_names]), critical=False
        )
    return Issued(key, builder.sign(ca.key, hashes.SHA256()))


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)  # whatever the umask


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def write_identity(folder: Path, ca: Issued, issued: Issued, key_mode: int) -> None:
    """`ca.crt`, `tls.crt`, `tls.key`: a Kubernetes TLS secret's layout."""
    _write(folder / "ca.crt", _pem_cert(ca.cert), 0o644)
    _write(folder / "tls.crt", _pem_cert(issued.cert), 0o644)
    _write(folder / "tls.key", _pem_key(issued.key), key_mode)


def make_all(out: Path, agencies: Sequence[str], *, readable_keys: bool = False) -> list[Path]:
    """Everything the module docstring lists; returns the identity directories written."""
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: remove it to start again")
    now = datetime.datetime.now(datetime.UTC)
    key_mode = 0o644 if readable_keys else 0o600
    ca = make_ca(now)
    _write(out / "ca" / "ca.crt", _pem_cert(ca.cert), 0o644)
    _write(out / "ca" / "ca.key", _pem_key(ca.key), 0o600)  # never mounted anywhere
    identities = {
        "rabbitmq": issue(ca, "rabbitmq", server_names=RABBITMQ_NAMES, now=now),
        ROUTER_USER: issue(ca, ROUTER_USER, client=True, now=now),
        GATEWAY_USER: issue(ca, GATEWAY_USER, client=True, now=now),
        "gateway-https": issue(ca, "gateway", server_names=GATEWAY_NAMES, now=now),
    }
    for agency in agencies:
        word = routing_word(agency)
        identities[f"agencies/{word}"] = issue(ca, word, client=True, now=now)
    folders = []
    for relative, issued in identities.items():
        folders.append(out / relative)
        write_identity(out / relative, ca, issued, key_mode)
    password = secrets.token_urlsafe(24)
    env_mode = 0o600
    _write(out / "postgres.env", f"POSTGRES_PASSWORD={password}\n".encode(), env_mode)
    _write(
        out / "cme.env",
        (
            f"CME_PSEUDONYM_KEY={secrets.token_urlsafe(48)}\n"
            f"CME_DATABASE_URL=postgresql+psycopg://cme:{password}@postgres:5432/cme\n"
        ).encode(),
        env_mode,
    )
    _write(
        out / "rabbitmq.env", f"RABBITMQ_ERLANG_COOKIE={secrets.token_hex(32)}\n".encode(), 0o600
    )
    return folders


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "secrets")
    parser.add_argument(
        "--agency",
        action="append",
        default=[],
        metavar="KIND:CODE",
        help="also make a client certificate for this agency (repeatable)",
    )
    parser.add_argument(
        "--readable-keys",
        action="store_true",
        help="private keys mode 0644, so the compose containers can read the bind mounts "
        "(a local try-out only)",
    )
    args = parser.parse_args(argv)
    try:
        folders = make_all(args.out, args.agency, readable_keys=args.readable_keys)
    except (FileExistsError, ValueError) as exc:
        print(f"make_dev_ca: {exc}", file=sys.stderr)
        return 2
    print(f"wrote a throwaway CA and {len(folders)} certificates under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
