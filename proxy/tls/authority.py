"""hubscope's local certificate authority on disk, and the TLS context its servers use.

Like mitmproxy's CA: created on first use in a per-user folder (`$HUBSCOPE_HOME`,
else `$XDG_CONFIG_HOME/hubscope`, else `~/.config/hubscope`), folder mode 0700,
private keys 0600, reused across runs. The server certificate covers localhost,
127.0.0.1 and ::1 plus any extra host, and is replaced when the host set changes,
when it nears expiry or when the CA changed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
import stat
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from proxy.tls import certs
from proxy.tls.handshake_log import HandshakeLogging

__all__ = [
    "CA_CERT",
    "HOME_ENV",
    "Authority",
    "ServerFiles",
    "TlsError",
    "ca_path",
    "config_dir",
    "ensure_ca",
    "ensure_host",
    "ensure_server",
    "server_context",
    "tls_context",
]

log = logging.getLogger("hubscope.tls")

HOME_ENV = "HUBSCOPE_HOME"
CA_CERT = "hubscope-ca.pem"
CA_KEY = "hubscope-ca-key.pem"
SERVER_CERT = "server.pem"
SERVER_KEY = "server-key.pem"
HOSTS_DIR = "hosts"
LOCK = ".lock"

PROJECT = Path(__file__).resolve().parents[2]
POSIX = os.name == "posix"
"""File modes mean something (on Windows the folder inherits the profile's ACL instead)."""


class TlsError(Exception):
    """The CA folder or its files cannot be used; the message says what to do."""


def config_dir() -> Path:
    """The per-user folder that holds the CA: never inside the hubscope source tree."""
    try:
        if os.environ.get(HOME_ENV):
            folder = Path(os.environ[HOME_ENV]).expanduser()
        elif os.environ.get("XDG_CONFIG_HOME"):
            folder = Path(os.environ["XDG_CONFIG_HOME"]).expanduser() / "hubscope"
        else:
            folder = Path.home() / ".config" / "hubscope"
    except RuntimeError as error:  # no home directory at all
        raise TlsError(f"no per-user folder for hubscope's CA ({error}); set {HOME_ENV}") from None
    folder = folder.resolve()
    if folder == PROJECT or PROJECT in folder.parents:
        raise TlsError(
            f"{folder} is inside the hubscope project tree; keep private keys out of it "
            f"(set {HOME_ENV} to a folder of your own)"
        )
    return folder


@dataclass(frozen=True, slots=True)
class Authority:
    """The local CA: its certificate (the file clients trust) and its signing key."""

    cert_path: Path
    cert: x509.Certificate
    key: certs.Key


@dataclass(frozen=True, slots=True)
class ServerFiles:
    """The server certificate and key files, and the hosts they cover."""

    cert_path: Path
    key_path: Path
    hosts: tuple[str, ...]
    ca_path: Path


def _private_folder(folder: Path) -> None:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if POSIX and stat.S_IMODE(folder.stat().st_mode) & 0o077:
            folder.chmod(0o700)
    except OSError as error:
        raise TlsError(f"cannot use {folder} for hubscope's CA: {error}") from error


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One process at a time creates or renews files (a hub and a proxy may start together)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; files are still replaced atomically
        yield
        return
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write `data` to `path` atomically, created with `mode` from the start."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _load(cert_path: Path, key_path: Path) -> tuple[x509.Certificate, certs.Key] | None:
    """A certificate and its RSA key from PEM files; None when missing or unreadable."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if POSIX and stat.S_IMODE(key_path.stat().st_mode) & 0o077:
            log.warning("%s was readable by others; restricting it to mode 0600", key_path)
            key_path.chmod(0o600)
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError, OSError) as error:
        log.warning("ignoring unreadable %s / %s: %s", cert_path.name, key_path.name, error)
        return None
    if not isinstance(key, rsa.RSAPrivateKey):
        return None
    return cert, key


def _ensure_ca(folder: Path, now: datetime | None) -> Authority:
    cert_path, key_path = folder / CA_CERT, folder / CA_KEY
    loaded = _load(cert_path, key_path)
    if loaded is not None and certs.ca_usable(*loaded, now=now):
        return Authority(cert_path, *loaded)
    if loaded is not None:
        log.warning(
            "hubscope's CA in %s expired or does not match its key: creating a new one; "
            "clients must trust the new %s",
            folder,
            cert_path,
        )
    cert, key = certs.new_ca(now)
    _write(key_path, certs.key_pem(key), 0o600)
    _write(cert_path, certs.cert_pem(cert), 0o644)
    log.info("created hubscope's local CA: %s (trust it in your client: hubscope ca)", cert_path)
    return Authority(cert_path, cert, key)


def ensure_ca(folder: Path | None = None, *, now: datetime | None = None) -> Authority:
    """The local CA, created on first use."""
    folder = folder or config_dir()
    _private_folder(folder)
    with _locked(folder):
        return _ensure_ca(folder, now)


def ca_path(folder: Path | None = None) -> Path:
    """The CA certificate file clients must trust (created if it does not exist yet)."""
    return ensure_ca(folder).cert_path


def ensure_server(
    hosts: Iterable[str] = (), folder: Path | None = None, *, now: datetime | None = None
) -> ServerFiles:
    """The server certificate for the default hosts plus `hosts`, issued or renewed as needed."""
    names = certs.normalise_hosts(hosts)
    folder = folder or config_dir()
    _private_folder(folder)
    with _locked(folder):
        ca = _ensure_ca(folder, now)
        cert_path, key_path = folder / SERVER_CERT, folder / SERVER_KEY
        loaded = _load(cert_path, key_path)
        if loaded is None or not certs.fits(*loaded, ca.cert, names, now=now):
            cert, key = certs.new_server(ca.cert, ca.key, names, now)
            _write(key_path, certs.key_pem(key), 0o600)
            _write(cert_path, certs.cert_pem(cert), 0o644)
            log.info("issued a server certificate for %s", ", ".join(names))
    return ServerFiles(cert_path, key_path, names, ca.cert_path)


def ensure_host(
    host: str, folder: Path | None = None, *, now: datetime | None = None
) -> ServerFiles:
    """A certificate for `host` alone (the forward proxy's interception), kept in `hosts/`."""
    name = certs.normalise_host(host)
    folder = folder or config_dir()
    _private_folder(folder)
    _private_folder(folder / HOSTS_DIR)
    stem = name.replace(":", "_").replace("*", "_wildcard")
    cert_path = folder / HOSTS_DIR / f"{stem}.pem"
    key_path = folder / HOSTS_DIR / f"{stem}-key.pem"
    with _locked(folder):
        ca = _ensure_ca(folder, now)
        loaded = _load(cert_path, key_path)
        if loaded is None or not certs.fits(*loaded, ca.cert, (name,), now=now):
            cert, key = certs.new_server(ca.cert, ca.key, (name,), now)
            _write(key_path, certs.key_pem(key), 0o600)
            _write(cert_path, certs.cert_pem(cert), 0o644)
    return ServerFiles(cert_path, key_path, (name,), ca.cert_path)


def server_context(hosts: Iterable[str] = (), folder: Path | None = None) -> ssl.SSLContext:
    """A TLS 1.2+ server context with the certificate for `hosts`; failed handshakes are logged."""
    return tls_context(ensure_server(hosts, folder))


def tls_context(files: ServerFiles) -> ssl.SSLContext:
    """A TLS 1.2+ HTTP/1.1 server context presenting `files`; failed handshakes are logged."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.cert_path, files.key_path)
    context.set_alpn_protocols(["http/1.1"])
    context.sslobject_class = HandshakeLogging.for_ca(files.ca_path)
    return context
