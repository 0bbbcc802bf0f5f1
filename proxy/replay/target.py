"""Before a replay sends anything: can the target be reached, and does it speak HTTPS?

`Endpoint=sb://host:port/` means HTTPS to every SDK, but `hubscope hub` without `--tls`
prints such an endpoint for a plain-HTTP port. Sending every request over TLS to it
fails them all (`WRONG_VERSION_NUMBER`) and records a session of failures; a probe of one
connection (no HTTP request) tells it first. A loopback target that answers the TLS
hello in plain HTTP is replayed over `http://`; any other is refused with the fix.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

PLAIN_HTTP_REASONS = frozenset(
    {"WRONG_VERSION_NUMBER", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE", "HTTP_REQUEST"}
)
"""What OpenSSL says when the server answered the TLS hello with plain HTTP."""


class Unreachable(RuntimeError):
    """The target cannot be used; the message says why and what to do. Nothing was sent."""


@dataclass(frozen=True, slots=True)
class Checked:
    """The URL to replay to, and a note when it is not the one given."""

    url: str
    note: str | None = None


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _plain_http(error: ssl.SSLError) -> bool:
    return (error.reason or "").upper() in PLAIN_HTTP_REASONS


def with_scheme(url: str, scheme: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


async def _connect(host: str, port: int, tls: ssl.SSLContext | None, timeout: float) -> None:
    _, writer = await asyncio.wait_for(
        asyncio.open_connection(host, port, ssl=tls, server_hostname=host if tls else None),
        timeout,
    )
    writer.close()
    try:
        await writer.wait_closed()
    except (OSError, ssl.SSLError):
        pass


async def check(url: str, *, timeout: float = 10.0) -> Checked:
    """Connect once (TCP, and the TLS handshake for https); raise Unreachable with the fix."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    shown = f"{host}:{port}"
    try:
        await _connect(host, port, ssl.create_default_context() if https else None, timeout)
    except ssl.SSLCertVerificationError as error:
        raise Unreachable(
            f"{shown}: its TLS certificate is not trusted ({error.verify_message}); "
            "trust its CA (SSL_CERT_FILE=…) or replay to another --target"
        ) from None
    except ssl.SSLError as error:
        if not _plain_http(error):
            raise Unreachable(f"{shown}: the TLS handshake failed ({error.reason})") from None
        plain = with_scheme(url, "http")
        if not is_loopback(host):
            raise Unreachable(
                f"{shown} answers plain HTTP, not HTTPS: to send the requests (and their SAS "
                f"tokens) unencrypted, give --target {plain}"
            ) from None
        return Checked(
            plain,
            f"{shown} speaks plain HTTP, not HTTPS (an sb:// endpoint means HTTPS; "
            f"`hubscope hub` without --tls serves HTTP): replaying to {plain}",
        )
    except ConnectionRefusedError:
        raise Unreachable(f"cannot connect to {shown}: connection refused") from None
    except TimeoutError:
        raise Unreachable(f"cannot connect to {shown}: no answer in {timeout:g} s") from None
    except OSError as error:
        raise Unreachable(f"cannot connect to {shown}: {error.strerror or error}") from None
    return Checked(url)
