"""Device state over time, rebuilt from the registration and installation calls the hub accepted.

Each accepted call leaves a snapshot: a write's answer (the registration as the hub stored
it, so elements it silently dropped are gone), an installation PUT's body, a PATCH applied
to the last known installation, a read or a listed feed entry, a deletion. `at(T)` gives the
last snapshot of each registration and installation made before T.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from proxy.exchange import Exchange
from proxy.model import Decoded, Device, Op
from proxy.rules.context import INSTALLATION_OPS, REGISTRATION_WRITES
from proxy.targets.patch import apply_patch
from proxy.targets.state import Hub, Kind, Snapshot, expiry_of

__all__ = ["History", "hub_of"]

Key = tuple[Hub, Kind, str]

_REGISTRATION_READS = frozenset(
    {
        Op.READ_REGISTRATION,
        Op.LIST_REGISTRATIONS,
        Op.LIST_REGISTRATIONS_BY_TAG,
        Op.LIST_REGISTRATIONS_BY_CHANNEL,
    }
)


def hub_of(exchange: Exchange, decoded: Decoded) -> Hub | None:
    """The hub an exchange went to, or None when the path names none."""
    name = decoded.operation.hub
    if not name:
        return None
    return Hub(urlsplit(exchange.url).netloc.lower(), name.lower())


def _meaning(device: Device) -> tuple[object, ...]:
    """What decides targeting; a read that shows the same leaves the earlier snapshot."""
    return (
        device.platform,
        (device.handle or "").lower(),
        frozenset(t.lower() for t in device.tags),
        tuple(
            (t.name, frozenset(x.lower() for x in (*t.tags, t.name or "")))
            for t in device.templates
        ),
        device.user_id,
        expiry_of(device.expiration),
        bool(device.push_channel_expired),
        device.source_type if device.kind == "registration" else None,
    )


@dataclass(slots=True)
class History:
    """Snapshots per registration and installation, each list in time order."""

    snapshots: dict[Key, list[Snapshot]] = field(default_factory=dict)
    owners: dict[tuple[Hub, str], tuple[str, str | None]] = field(default_factory=dict)
    """Registration id → (installation id, template name) for installations' registrations."""

    aliases: dict[tuple[Hub, str], dict[str | None, str]] = field(default_factory=dict)
    """Installation id → {template name (None: native) → registration id}, as answers showed."""

    views: dict[tuple[Hub, str], set[Key]] = field(default_factory=dict)
    """Installation id → registrations recorded as its views before the installation itself."""

    notes: list[str] = field(default_factory=list)

    @property
    def hubs(self) -> set[Hub]:
        return {key[0] for key in self.snapshots}

    def latest(self, key: Key) -> Snapshot | None:
        found = self.snapshots.get(key)
        return found[-1] if found else None

    def _put(
        self,
        key: Key,
        device: Device | None,
        exchange: Exchange,
        op: Op,
        *,
        observed: bool = False,
        dropped: tuple[str, ...] = (),
    ) -> None:
        previous = self.latest(key)
        alive = previous is not None and not previous.deleted
        if observed and alive and previous and previous.device and device:
            if _meaning(previous.device) == _meaning(device):
                return
        if device is None and not alive and previous is not None:
            return
        since = previous.since if alive and previous else exchange.started_at
        snapshot = Snapshot(
            hub=key[0],
            kind=key[1],
            ident=key[2],
            device=device,
            exchange_id=exchange.id,
            at=exchange.started_at,
            operation=op,
            since=since,
            was=previous.device if device is None and previous else None,
            dropped=dropped,
        )
        self.snapshots.setdefault(key, []).append(snapshot)

    def add(self, exchange: Exchange, decoded: Decoded) -> None:
        """Apply one recorded exchange (in time order); calls the hub refused change nothing."""
        status = exchange.status
        hub = hub_of(exchange, decoded)
        if hub is None or status is None or not 200 <= status < 300:
            return
        op = decoded.operation.name
        if op in REGISTRATION_WRITES or op in _REGISTRATION_READS:
            self._registrations(hub, exchange, decoded, observed=op in _REGISTRATION_READS)
        elif op is Op.DELETE_REGISTRATION and decoded.operation.resource_id:
            self._delete_registration(hub, decoded.operation.resource_id, exchange)
        elif op in INSTALLATION_OPS and decoded.operation.resource_id:
            self._installation(hub, decoded.operation.resource_id, exchange, decoded)

    def _registrations(
        self, hub: Hub, exchange: Exchange, decoded: Decoded, *, observed: bool
    ) -> None:
        answer = decoded.response.devices if decoded.response else ()
        op = decoded.operation.name
        if not answer and not observed and decoded.operation.resource_id:
            answer = tuple(
                replace(d, registration_id=decoded.operation.resource_id)
                for d in decoded.request.devices[:1]
            )
        if not answer and op is Op.CREATE_REGISTRATION:
            self.notes.append(f"exchange {exchange.id}: a registration was created, no answer")
        for device in answer:
            rid = device.registration_id
            if not rid:
                continue
            if device.installation_id:
                template = device.templates[0].name if device.templates else None
                self.owners[(hub, rid)] = (device.installation_id, template)
                self.aliases.setdefault((hub, device.installation_id), {})[template] = rid
                inst = self.latest((hub, "installation", device.installation_id))
                if inst is not None and not inst.deleted:
                    continue
            kept = {t.lower() for t in device.tags}
            sent = [] if observed else [t for d in decoded.request.devices[:1] for t in d.tags]
            dropped = tuple(t for t in sent if t.lower() not in kept)
            key: Key = (hub, "registration", rid)
            self._put(key, device, exchange, op, observed=observed, dropped=dropped)
            if device.installation_id:
                self.views.setdefault((hub, device.installation_id), set()).add(key)

    def _delete_registration(self, hub: Hub, rid: str, exchange: Exchange) -> None:
        owner = self.owners.get((hub, rid))
        inst_key: Key = (hub, "installation", owner[0] if owner else "")
        inst = self.latest(inst_key)
        if owner and inst is not None and inst.device is not None:
            if owner[1] is None:  # the native one: the whole installation goes (§7.6)
                self._put(inst_key, None, exchange, Op.DELETE_REGISTRATION)
            else:
                kept = tuple(t for t in inst.device.templates if t.name != owner[1])
                device = replace(inst.device, templates=kept)
                self._put(inst_key, device, exchange, Op.DELETE_REGISTRATION)
            return
        self._put((hub, "registration", rid), None, exchange, Op.DELETE_REGISTRATION)

    def _installation(self, hub: Hub, ident: str, exchange: Exchange, decoded: Decoded) -> None:
        key: Key = (hub, "installation", ident)
        op = decoded.operation.name
        if op is Op.DELETE_INSTALLATION:
            self._put(key, None, exchange, op)
            return
        if op is Op.READ_INSTALLATION:
            answer = decoded.response.devices if decoded.response else ()
            if answer:
                self._put(key, answer[0], exchange, op, observed=True)
            return
        if op is Op.PATCH_INSTALLATION:
            base = self.latest(key)
            if base is None or base.device is None:
                self.notes.append(
                    f"exchange {exchange.id}: PATCH of installation {ident!r} "
                    "whose state was never recorded; read it to know it"
                )
                return
            self._put(key, apply_patch(base.device, decoded.request.patch), exchange, op)
            return
        sent = decoded.request.devices
        if not sent:
            return
        # expirationTime and pushChannelExpired are read-only: the service sets them (§7.1).
        device = replace(sent[0], installation_id=ident, expiration=None, push_channel_expired=None)
        self._put(key, device, exchange, op)
        self._absorb(hub, ident, exchange)

    def _absorb(self, hub: Hub, ident: str, exchange: Exchange) -> None:
        """Registrations seen as views of this installation are now covered by it."""
        for key in self.views.pop((hub, ident), set()):
            self._put(key, None, exchange, Op.CREATE_OR_OVERWRITE_INSTALLATION)

    def keys_for(self, ident: str) -> set[Key]:
        """The records an id or handle names at any time (an installation's registrations' too)."""
        wanted = ident.strip().lower()
        found = {
            key
            for key, snapshots in self.snapshots.items()
            if key[2].lower() == wanted
            or any((s.handle or "").lower() == wanted for s in snapshots)
        }
        for (hub, rid), (installation, _) in self.owners.items():
            if rid.lower() == wanted and (hub, "installation", installation) in self.snapshots:
                found.add((hub, "installation", installation))
        return found

    def at(
        self, when: float | None = None, hub: Hub | None = None, keys: set[Key] | None = None
    ) -> list[Snapshot]:
        """The last snapshot of each record (of `keys`, when given) made before `when` (all, with
        None), oldest first. Registrations that turned out to be an installation's views are
        left out.
        """
        out: list[Snapshot] = []
        for key, snapshots in self.snapshots.items():
            if (hub is not None and key[0] != hub) or (keys is not None and key not in keys):
                continue
            index = len(snapshots)
            if when is not None:
                index = bisect.bisect_left([s.at for s in snapshots], when)
            if index == 0:
                continue
            found = snapshots[index - 1]
            absorbed = found.kind == "registration" and found.operation in INSTALLATION_OPS
            if found.deleted and absorbed:
                continue
            out.append(self._with_aliases(found))
        return sorted(out, key=lambda s: (s.since, s.at))

    def _with_aliases(self, snapshot: Snapshot) -> Snapshot:
        """An installation with the ids of its registrations, as later answers showed them."""
        aliases = self.aliases.get((snapshot.hub, snapshot.ident))
        if snapshot.kind != "installation" or not aliases:
            return snapshot
        return replace(snapshot, aliases=tuple(aliases.items()))
