"""One readable log line per failed TLS handshake (asyncio itself stays silent about them).

asyncio treats `ssl.SSLError` as an `OSError` and logs it only in debug mode, so a
client that rejects hubscope's certificate would leave no trace. The server context
uses `HandshakeLogging` as its `sslobject_class` (public `ssl` API) to follow each
handshake: `tls_site` reads what it saw and reports it with the client's address;
served without `tls_site`, it logs refused certificates by itself.
"""

from __future__ import annotations

import contextvars
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

__all__ = ["CURRENT", "HandshakeLogging", "Seen", "explain", "trust_hint"]

log = logging.getLogger("hubscope.tls")

_UNTRUSTED = frozenset(
    {
        "TLSV1_ALERT_UNKNOWN_CA",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "TLSV1_ALERT_ACCESS_DENIED",
        "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
        "TLSV1_ALERT_DECRYPT_ERROR",
    }
)
_OLD_CLIENT = frozenset(
    {
        "UNSUPPORTED_PROTOCOL",
        "TLSV1_ALERT_PROTOCOL_VERSION",
        "VERSION_TOO_LOW",
        "NO_SHARED_CIPHER",
        "NO_PROTOCOLS_AVAILABLE",
    }
)


@dataclass
class Seen:
    """What one TLS connection did, shared by the accepting task and its SSL object."""

    peer: str = "a client"
    attempts: int = 0
    """`do_handshake` calls: the first has no data yet, a second means the client spoke."""

    handshaken: bool = False
    got_data: bool = False
    reported: bool = False

    @property
    def spoke(self) -> bool:
        return self.attempts >= 2


CURRENT: contextvars.ContextVar[Seen | None] = contextvars.ContextVar("hubscope_tls", default=None)
"""Set by the accepting task; asyncio runs the SSL object's callbacks in copies of its context."""


def trust_hint(ca_path: Path | None) -> str:
    ca = f" {ca_path}" if ca_path is not None else ""
    return f"make it trust the local CA{ca} (`hubscope ca` shows how for each SDK)"


def explain(error: ssl.SSLError, ca_path: Path | None, peer: str = "a client") -> str | None:
    """The one-line log message for a failed handshake; None for an ordinary hang-up."""
    reason = str(getattr(error, "reason", None) or "")
    detail = reason.lower().replace("_", " ") if reason else str(error)
    head = f"TLS handshake with {peer} failed"
    if reason in _UNTRUSTED:
        return (
            f"{head}: the client does not trust hubscope's certificate ({detail}); "
            f"{trust_hint(ca_path)}."
        )
    if reason == "HTTP_REQUEST":
        return (
            f"{head}: the client sent plain HTTP to the HTTPS port; use the HTTP port, "
            "or Endpoint=sb://… so the SDK speaks HTTPS."
        )
    if reason in _OLD_CLIENT:
        return f"{head}: the client and hubscope share no TLS 1.2+ cipher ({detail})."
    if isinstance(error, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return None
    return f"{head}: {detail}."


class HandshakeLogging(ssl.SSLObject):
    """An `SSLObject` that notes how its server-side handshake went, then behaves as before."""

    ca_path: ClassVar[Path | None] = None
    _seen: Seen | None = None

    @classmethod
    def for_ca(cls, ca_path: Path) -> type[HandshakeLogging]:
        """A subclass whose messages name the CA file clients should trust."""
        return type("HandshakeLogging", (cls,), {"ca_path": ca_path})

    @property
    def seen(self) -> Seen:
        if self._seen is None:
            self._seen = CURRENT.get() or Seen()
        return self._seen

    def do_handshake(self) -> None:
        seen = self.seen
        seen.attempts += 1
        try:
            super().do_handshake()
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            raise
        except ssl.SSLError as error:
            if CURRENT.get() is None and not seen.reported:  # no accepting task to report it
                seen.reported = True
                message = explain(error, self.ca_path, seen.peer)
                if message is not None:
                    log.warning("%s", message)
            raise
        seen.handshaken = True
