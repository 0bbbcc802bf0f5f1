"""One readable log line per failed TLS handshake (asyncio itself stays silent about them).

asyncio treats `ssl.SSLError` as an `OSError` and logs it only in debug mode, so a
client that rejects hubscope's certificate would leave no trace. The server context
uses `HandshakeLogging` as its `sslobject_class` (public `ssl` API) to see each
handshake failure as it happens.
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["HandshakeLogging", "explain"]

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


def explain(error: ssl.SSLError, ca_path: Path | None) -> str | None:
    """The one-line log message for a failed handshake; None for an ordinary hang-up."""
    reason = str(getattr(error, "reason", None) or "")
    detail = reason.lower().replace("_", " ") if reason else str(error)
    ca = f" {ca_path}" if ca_path is not None else ""
    if reason in _UNTRUSTED:
        return (
            f"TLS handshake failed: the client does not trust hubscope's certificate ({detail}). "
            f"Make it trust the local CA{ca}; `hubscope ca` shows how for each SDK."
        )
    if reason == "HTTP_REQUEST":
        return (
            "TLS handshake failed: the client sent plain HTTP to the HTTPS port; "
            "use the HTTP port, or Endpoint=sb://… so the SDK speaks HTTPS."
        )
    if reason in _OLD_CLIENT:
        return f"TLS handshake failed: the client and hubscope share no TLS 1.2+ cipher ({detail})."
    if isinstance(error, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return None
    return f"TLS handshake failed: {detail}."


class HandshakeLogging(ssl.SSLObject):
    """An `SSLObject` that logs why a server-side handshake failed, then fails as before.

    Node and .NET check the certificate only after the handshake and then just close
    the connection, so a TLS connection that ends before its first request byte is
    reported too (as a likely trust problem).
    """

    ca_path: ClassVar[Path | None] = None
    _handshaken = False
    _got_data = False
    _reported = False

    @classmethod
    def for_ca(cls, ca_path: Path) -> type[HandshakeLogging]:
        """A subclass whose messages name the CA file clients should trust."""
        return type("HandshakeLogging", (cls,), {"ca_path": ca_path})

    def do_handshake(self) -> None:
        try:
            super().do_handshake()
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            raise
        except ssl.SSLError as error:
            self._reported = True
            message = explain(error, self.ca_path)
            if message is None:
                log.debug("TLS client hung up during the handshake: %s", error)
            else:
                log.warning("%s", message)
            raise
        self._handshaken = True

    def read(self, len: int = 1024, buffer: Buffer | None = None) -> bytes:
        data = super().read(len, buffer)
        if data:
            self._got_data = True
        return data

    def unwrap(self) -> None:
        if self._handshaken and not self._got_data and not self._reported:
            self._reported = True
            ca = f" {self.ca_path}" if self.ca_path is not None else ""
            log.warning(
                "TLS client closed the connection before sending a request: if it reports a "
                "certificate error, make it trust the local CA%s (`hubscope ca`).",
                ca,
            )
        super().unwrap()
