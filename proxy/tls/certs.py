"""X.509 building blocks for hubscope's local CA and its server certificate (no file I/O)."""

from __future__ import annotations

import getpass
import ipaddress
import re
import socket
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CA_LIFETIME",
    "DEFAULT_HOSTS",
    "RENEW_BEFORE",
    "SERVER_LIFETIME",
    "Key",
    "cert_pem",
    "fits",
    "key_pem",
    "new_ca",
    "new_server",
    "normalise_hosts",
    "san_hosts",
]

Key = rsa.RSAPrivateKey

DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")
"""Names every server certificate covers; `--tls-host` adds to them."""

CA_LIFETIME = timedelta(days=3650)
SERVER_LIFETIME = timedelta(days=397)
"""Apple and browsers refuse longer-lived server certificates."""

RENEW_BEFORE = timedelta(days=30)
"""A server certificate this close to expiry is replaced on the next start."""

BACKDATE = timedelta(days=1)
"""Devices and emulators with a slow clock still accept a fresh certificate."""

_LABEL = re.compile(r"^(\*|[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)$")


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def normalise_host(name: str) -> str:
    """One host name or IP literal in canonical form; ValueError when it is neither."""
    text = name.strip().strip("[]").rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    try:
        ascii_name = text.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise ValueError(f"{name!r} is not a host name or IP address") from error
    labels = ascii_name.split(".")
    if not ascii_name or len(ascii_name) > 253 or not all(_LABEL.match(x) for x in labels):
        raise ValueError(f"{name!r} is not a host name or IP address")
    if "*" in labels[1:] or (labels[0] == "*" and len(labels) < 3):
        raise ValueError(f"{name!r}: a wildcard may only be the first of three or more labels")
    return ascii_name


def normalise_hosts(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The default hosts plus `extra`, canonical, without duplicates, in a stable order."""
    seen: dict[str, None] = {}
    for name in (*DEFAULT_HOSTS, *extra):
        seen.setdefault(normalise_host(name), None)
    return tuple(seen)


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def san_hosts(cert: x509.Certificate) -> frozenset[str]:
    """The DNS names and IP addresses a certificate is valid for, canonical."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return frozenset()
    names = {str(n).lower() for n in san.get_values_for_type(x509.DNSName)}
    names |= {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    return frozenset(names)


def _owner() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = "user"
    return f"{user}@{socket.gethostname()}"[:40]


def _key() -> Key:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _serial() -> int:
    return x509.random_serial_number()


def new_ca(now: datetime | None = None) -> tuple[x509.Certificate, Key]:
    """A fresh self-signed CA, allowed to sign server certificates only (path length 0)."""
    start = _now(now)
    key = _key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"hubscope local CA ({_owner()})"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "hubscope"),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(start - BACKDATE)
        .not_valid_after(start + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
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
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def new_server(
    ca_cert: x509.Certificate, ca_key: Key, hosts: Iterable[str], now: datetime | None = None
) -> tuple[x509.Certificate, Key]:
    """A TLS server certificate for `hosts` (canonical, first one is the common name)."""
    names = tuple(hosts)
    start = _now(now)
    key = _key()
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, names[0]),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "hubscope"),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(start - BACKDATE)
        .not_valid_after(start + SERVER_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([_general_name(h) for h in names]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def _valid_at(cert: x509.Certificate, when: datetime, margin: timedelta) -> bool:
    return cert.not_valid_before_utc <= when and cert.not_valid_after_utc - margin > when


def ca_usable(cert: x509.Certificate, key: Key, now: datetime | None = None) -> bool:
    """Whether a loaded CA is still valid and its key belongs to it."""
    same_key = cert.public_key() == key.public_key()
    return same_key and _valid_at(cert, _now(now), timedelta(0))


def fits(
    cert: x509.Certificate,
    key: Key,
    ca_cert: x509.Certificate,
    hosts: Iterable[str],
    now: datetime | None = None,
) -> bool:
    """Whether a server certificate can be reused: same hosts, same CA, not near expiry."""
    if san_hosts(cert) != frozenset(hosts) or cert.public_key() != key.public_key():
        return False
    if not _valid_at(cert, _now(now), RENEW_BEFORE):
        return False
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def cert_pem(cert: x509.Certificate) -> bytes:
    """A certificate as PEM."""
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: Key) -> bytes:
    """A private key as unencrypted PKCS#8 PEM (the file holding it is mode 0600)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
