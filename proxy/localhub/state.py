"""The hub's registrations and installations: in memory, written through to `--db` (an SQLite
file or a PostgreSQL database, `persist.py`)."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from proxy.localhub.persist import StateDb
from proxy.store import location

__all__ = ["NEVER", "Installation", "Registration", "Store", "expiration_after", "stamp"]

NEVER = "9999-12-31T23:59:59.9999999"
"""The service's "never expires" ExpirationTime (a `Z` is added on reads)."""


def stamp(moment: float) -> str:
    """A UTC time in the shape of `NEVER` (7 fractional digits, no `Z`), so stamps compare
    as text."""
    when = datetime.fromtimestamp(moment, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}0"


def expiration_after(now: float, ttl: timedelta | None) -> str:
    """The `ExpirationTime` of a write at `now` under the hub's `RegistrationTtl`."""
    return NEVER if ttl is None else stamp(now + ttl.total_seconds())


@dataclass(frozen=True, slots=True, kw_only=True)
class Registration:
    """One stored registration, in the service's element vocabulary."""

    registration_id: str
    kind: str
    """Wire type name: `AppleTemplateRegistrationDescription`, …"""

    etag: int = 1
    tags: tuple[str, ...] = ()
    push_variables: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    """Platform and template elements kept from the request: (DeviceToken, …), (BodyTemplate, …)."""

    headers: tuple[tuple[str, str], ...] = ()
    """Template header collection (WnsHeaders/MpnsHeaders/ApnsHeaders) as pairs."""

    expiration: str = NEVER
    created: float = 0.0
    updated: float = 0.0
    seq: int = 0
    """Creation order, which list pages follow."""

    installation_id: str | None = None
    """Set on registrations an installation materialises as (read-only)."""

    channel_expired: bool = False
    """The installation's `pushChannelExpired`: sends skip it."""

    def field(self, name: str) -> str | None:
        """The value of one element, or None."""
        return next((v for k, v in self.fields if k == name), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Installation:
    """One stored installation: its JSON document as the service returns it."""

    installation_id: str
    document: str
    """JSON text, keys in the service's order."""

    version: int = 1
    created: float = 0.0
    updated: float = 0.0
    seq: int = 0
    expiration: str = NEVER
    """Its `expirationTime` without the `Z` (the shape of `NEVER`)."""


def _registration(data: dict[str, Any]) -> Registration:
    data["tags"] = tuple(data["tags"])
    data["fields"] = tuple(tuple(p) for p in data["fields"])
    data["headers"] = tuple(tuple(p) for p in data["headers"])
    return Registration(**data)


class Store:
    """All hubs' state. Reads come from memory; every write goes to the database first, when
    there is one, so what a client was answered is what a restart reads back."""

    def __init__(self, db_path: str | Path | None = None) -> None:
        self._registrations: dict[str, dict[str, Registration]] = {}
        self._installations: dict[str, dict[str, Installation]] = {}
        self._seq = 0
        self._next_expiry = NEVER
        """The earliest expiration stored (a bound): nothing to purge before it."""
        self._lock = threading.Lock()
        self._db: StateDb | None = None
        if db_path is not None:
            self._db = StateDb(location.parse(db_path))
            self._load(self._db)

    def _load(self, db: StateDb) -> None:
        for hub, data in db.rows("registrations"):
            reg = _registration(json.loads(data))
            self._registrations.setdefault(hub, {})[reg.registration_id] = reg
            self._next_expiry = min(self._next_expiry, reg.expiration)
            self._seq = max(self._seq, reg.seq)
        for hub, data in db.rows("installations"):
            inst = Installation(**json.loads(data))
            self._installations.setdefault(hub, {})[inst.installation_id] = inst
            self._next_expiry = min(self._next_expiry, inst.expiration)
            self._seq = max(self._seq, inst.seq)

    def close(self) -> None:
        """Close the database, if any."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def next_seq(self) -> int:
        """The next creation-order number."""
        with self._lock:
            self._seq += 1
            return self._seq

    def registration(self, hub: str, registration_id: str) -> Registration | None:
        return self._registrations.get(hub.lower(), {}).get(registration_id)

    def registrations(self, hub: str) -> list[Registration]:
        """Every stored registration of a hub, oldest first."""
        return sorted(self._registrations.get(hub.lower(), {}).values(), key=lambda r: r.seq)

    def put_registration(self, hub: str, registration: Registration) -> None:
        self._write("registrations", hub, registration.registration_id, asdict(registration))
        self._next_expiry = min(self._next_expiry, registration.expiration)
        self._registrations.setdefault(hub.lower(), {})[registration.registration_id] = registration

    def delete_registration(self, hub: str, registration_id: str) -> bool:
        """Remove a registration; False when there was none."""
        self._delete("registrations", hub, registration_id)
        found = self._registrations.get(hub.lower(), {}).pop(registration_id, None)
        return found is not None

    def installation(self, hub: str, installation_id: str) -> Installation | None:
        return self._installations.get(hub.lower(), {}).get(installation_id)

    def installations(self, hub: str) -> list[Installation]:
        """Every installation of a hub, oldest first."""
        return sorted(self._installations.get(hub.lower(), {}).values(), key=lambda i: i.seq)

    def put_installation(self, hub: str, installation: Installation) -> None:
        old = self.installation(hub, installation.installation_id)
        if old is not None:
            installation = replace(installation, seq=old.seq, created=old.created)
        self._write("installations", hub, installation.installation_id, asdict(installation))
        self._installations.setdefault(hub.lower(), {})[installation.installation_id] = installation
        self._next_expiry = min(self._next_expiry, installation.expiration)

    def delete_installation(self, hub: str, installation_id: str) -> bool:
        """Remove an installation; False when there was none."""
        self._delete("installations", hub, installation_id)
        found = self._installations.get(hub.lower(), {}).pop(installation_id, None)
        return found is not None

    def purge_expired(self, hub: str, now: float) -> None:
        """Drop the registrations and installations whose `ExpirationTime` has passed: from
        then on they are gone for reads, lists and sends alike."""
        limit = stamp(now)
        if limit <= self._next_expiry:
            return
        for reg in self.registrations(hub):
            if reg.expiration < limit:
                self.delete_registration(hub, reg.registration_id)
        for inst in self.installations(hub):
            if inst.expiration < limit:
                self.delete_installation(hub, inst.installation_id)
        self._next_expiry = min(
            [
                *(r.expiration for regs in self._registrations.values() for r in regs.values()),
                *(i.expiration for insts in self._installations.values() for i in insts.values()),
                NEVER,
            ]
        )

    def _write(self, table: str, hub: str, key: str, data: dict[str, Any]) -> None:
        if self._db is not None:
            self._db.put(table, hub.lower(), key, json.dumps(data))

    def _delete(self, table: str, hub: str, key: str) -> None:
        if self._db is not None:
            self._db.delete(table, hub.lower(), key)
