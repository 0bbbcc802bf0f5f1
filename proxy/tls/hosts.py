"""Certificates for the hosts the forward proxy intercepts, minted on demand by hubscope's CA.

Like mitmproxy's CertStore: the first CONNECT to `ns.servicebus.windows.net` issues a
certificate for exactly that name, kept in the CA's folder (`hosts/`, key 0600) and
reused across runs until it nears expiry or the CA changes; each process keeps the
TLS contexts it built in memory, bounded.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import OrderedDict
from pathlib import Path

from proxy.tls import certs
from proxy.tls.authority import config_dir, ensure_ca, ensure_host, tls_context

__all__ = ["HostCertificates"]

CACHE_SIZE = 256


class HostCertificates:
    """TLS server contexts per intercepted host, minted off the event loop and kept."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or config_dir()
        self.ca_path = ensure_ca(self.folder).cert_path
        self._contexts: OrderedDict[str, ssl.SSLContext] = OrderedDict()

    def _build(self, host: str) -> ssl.SSLContext:
        return tls_context(ensure_host(host, self.folder))

    async def context(self, host: str) -> ssl.SSLContext:
        """The context that presents a certificate for `host` (ValueError for a bad name)."""
        name = certs.normalise_host(host)
        found = self._contexts.get(name)
        if found is None:
            found = await asyncio.to_thread(self._build, name)
            self._contexts[name] = found
            while len(self._contexts) > CACHE_SIZE:
                self._contexts.popitem(last=False)
        else:
            self._contexts.move_to_end(name)
        return found
