"""What the hub held for one registration or installation after a recorded call.

An installation is reached through the registrations it materialises as (spec §7.6): one
native registration tagged `$InstallationId:{id}` (and `$UserId:{…}`) plus its tags, and
one template registration per template with the template's tags and its name as a tag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Literal

from proxy.model import Device, Op, Platform

__all__ = ["Hub", "Registered", "Snapshot", "expiry_of", "iso"]

Kind = Literal["registration", "installation"]


@dataclass(frozen=True, slots=True, order=True)
class Hub:
    """A hub as the recording saw it: the upstream host and the hub name (lower-cased)."""

    host: str
    name: str

    def __str__(self) -> str:
        return f"{self.host}/{self.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Registered:
    """One registration as the hub holds it: a native one, or one template."""

    registration_id: str | None
    """None for an installation's registration whose id was never seen in a recorded answer."""

    platform: Platform
    template: bool
    template_name: str | None
    handle: str | None
    tags: tuple[str, ...]

    @property
    def label(self) -> str:
        if not self.template:
            return "native"
        return f"template {self.template_name!r}" if self.template_name else "template"


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """A registration or installation as the last accepted call left it; `device` None: deleted."""

    hub: Hub
    kind: Kind
    ident: str
    """Registration id or installation id."""

    device: Device | None
    exchange_id: str
    at: float
    """When the call that left this state was made."""

    operation: Op
    since: float
    """When it was created (after its last deletion): the order the hub lists and reaches in."""

    aliases: tuple[tuple[str | None, str], ...] = ()
    """Installations: (template name, None for the native one; registration id) from answers."""

    was: Device | None = None
    """A deleted record's last state (for its platform and handle)."""

    dropped: tuple[str, ...] = ()
    """Tags the last write sent that the hub's answer does not hold (silently dropped)."""

    @property
    def deleted(self) -> bool:
        return self.device is None

    @property
    def platform(self) -> Platform:
        last = self.device or self.was
        return last.platform if last else Platform.UNKNOWN

    @property
    def handle(self) -> str | None:
        last = self.device or self.was
        return last.handle if last else None

    def registrations(self) -> tuple[Registered, ...]:
        """The registrations a send can reach through this record (none once deleted)."""
        device = self.device
        if device is None:
            return ()
        if self.kind == "registration":
            template = device.templates[0] if device.templates else None
            return (
                Registered(
                    registration_id=self.ident,
                    platform=device.platform,
                    template="Template" in device.source_type or template is not None,
                    template_name=template.name if template else None,
                    handle=device.handle,
                    tags=_unique(device.tags),
                ),
            )
        ids = dict(self.aliases)
        specials = [f"$InstallationId:{{{self.ident}}}"]
        if device.user_id:
            specials.append(f"$UserId:{{{device.user_id}}}")
        tags = _unique([*specials, *device.tags])
        native = Registered(
            registration_id=ids.get(None),
            platform=device.platform,
            template=False,
            template_name=None,
            handle=device.handle,
            tags=tags,
        )
        templates = tuple(
            Registered(
                registration_id=ids.get(t.name),
                platform=device.platform,
                template=True,
                template_name=t.name,
                handle=device.handle,
                tags=_unique([*tags, *t.tags, *([t.name] if t.name else [])]),
            )
            for t in device.templates
        )
        return (native, *templates)


def _unique(tags: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t for t in tags if t))


_STAMP = re.compile(r"^\s*(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)")


def expiry_of(value: str | None) -> float | None:
    """Unix time of an `ExpirationTime`/`expirationTime` (any fraction, `Z` or not: UTC);
    None when absent, unreadable, or the service's "never" (year 9999)."""
    match = _STAMP.match(value or "")
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(p) for p in match.groups())
    if year >= 9999:
        return None
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def iso(ts: float) -> str:
    """`2026-05-01T10:00:00Z` (milliseconds when there are any)."""
    dt = datetime.fromtimestamp(ts, UTC)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        text += f".{dt.microsecond // 1000:03d}"
    return text + "Z"
