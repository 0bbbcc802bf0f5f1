"""The proxy's settings, declared once and handed to the app factory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from proxy.store.location import describe


@dataclass(frozen=True, slots=True, kw_only=True)
class ProxySettings:
    """Everything `make_app` needs; built by the CLI or by tests."""

    upstream: str
    """Base URL of the real hub, e.g. `https://mynamespace.servicebus.windows.net`; in forward
    mode only what the session's `upstream` column says."""

    db: Path | str | None = Path("hubscope.db")
    """Where exchanges are recorded (a file, or a `postgresql://` URL); None turns recording off."""

    also_db: Path | str | None = None
    """A second store the same journal is followed into (`--also-db`), at its own pace."""

    instance: str | None = None
    """Which proxy this is (host/pid/listen address), stored with each exchange it records."""

    session: str = ""
    body_cap: int = 1 << 20
    """Bodies larger than this are stored truncated (with full size and SHA-256)."""

    max_body: int = 64 << 20
    """Larger request bodies are answered 413 (not forwarded) and recorded as refused."""

    max_in_flight: int = 128 << 20
    """Request-body bytes held at once; further large uploads wait their turn."""

    timeout: float = 60.0
    """Seconds to wait for the upstream's complete answer before answering 504."""

    connect_timeout: float = 10.0
    header_timeout: float = 30.0
    """Seconds a client has to send a whole request header (from its first byte, or from
    connecting); then `408`, the connection closed, the request recorded if its line came."""

    body_timeout: float = 30.0
    """Seconds a request body may pause between two reads before the client gets `408`."""

    max_upstream: int = 100
    """Connections to upstreams open at once (the pool's bound)."""

    upstream_wait: float = 5.0
    """Seconds a request waits for an upstream connection when all are busy; then `503`."""

    max_clients: int | None = None
    """Client connections open at once; None: what the open-file limit leaves room for."""

    ca_file: Path | None = None
    """An extra CA bundle to trust for the upstream (tests, private endpoints)."""

    insecure: bool = False
    """Skip upstream certificate verification (never the default)."""

    keys: dict[str, str] = field(default_factory=dict)
    """SAS keys by rule name (memory only): signatures are checked at capture time and, in
    reverse mode, a token the client signed for the proxy is re-signed for the upstream."""

    forward: bool = False
    """A forward proxy (`HTTPS_PROXY`): CONNECT to intercepted hosts is recorded, the rest
    tunnelled blind; `upstream` is not used for routing."""

    intercept: tuple[str, ...] = ()
    """Hosts intercepted besides `*.servicebus.windows.net` and `*.notificationhub.windows.net`
    (`*.example.com` matches every subdomain)."""

    map_remote: tuple[tuple[str, str], ...] = ()
    """(host, URL) pairs: intercepted traffic for host goes to URL, keeping the client's Host."""

    def __repr__(self) -> str:  # keys must never reach logs
        db = None if self.db is None else describe(self.db)  # nor a database password
        return f"ProxySettings(upstream={self.upstream!r}, db={db!r}, session={self.session!r})"

