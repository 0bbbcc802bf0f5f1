"""Settings of the local stand-in hub: access rules, hub names, database, endpoint."""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from proxy.sas import parse_connection_string

__all__ = [
    "DEFAULT_HUB",
    "FULL_RULE",
    "LISTEN_RULE",
    "HubSettings",
    "Right",
    "Rule",
    "generate_key",
    "parse_duration",
]

FULL_RULE = "DefaultFullSharedAccessSignature"
LISTEN_RULE = "DefaultListenSharedAccessSignature"
DEFAULT_HUB = "myhub"


class Right(StrEnum):
    """The three claims a SAS rule can grant."""

    LISTEN = "Listen"
    MANAGE = "Manage"
    SEND = "Send"


ALL_RIGHTS = frozenset(Right)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One shared access policy: its name, key and claims."""

    name: str
    key: str
    rights: frozenset[Right]

    def __repr__(self) -> str:
        return f"Rule(name={self.name!r}, rights={sorted(self.rights)!r})"


def generate_key() -> str:
    """A fresh 32-byte key, base64 text like the portal's keys."""
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


_DURATION = re.compile(
    r"P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration of days and time (`P90D`, `PT2S`, `P1DT12H`), as the service
    writes a hub's `RegistrationTtl` (`P10675199DT2H48M5.4775807S`); ValueError otherwise."""
    match = _DURATION.fullmatch(text.strip().upper())
    if match is None or not any(match.groupdict().values()) or text.strip().upper()[-1] == "T":
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as P90D or PT30S")
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    duration = timedelta(days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"])
    if duration <= timedelta(0):
        raise ValueError(f"{text!r}: a registration TTL must be longer than zero")
    return duration


@dataclass(frozen=True, slots=True, kw_only=True)
class HubSettings:
    """Everything `make_app` needs; built once by the CLI or a test."""

    rules: tuple[Rule, ...] = field(
        default_factory=lambda: (
            Rule(name=FULL_RULE, key=generate_key(), rights=ALL_RIGHTS),
            Rule(name=LISTEN_RULE, key=generate_key(), rights=frozenset({Right.LISTEN})),
        )
    )
    hubs: frozenset[str] = frozenset({DEFAULT_HUB})
    """Hub names served (lower-case); others get 404 like a namespace without that hub."""

    allow_unknown_hubs: bool = False
    """Forgive unknown hub names and serve every name (the service answers 404)."""

    db_path: str | None = field(default=None, repr=False)
    """An SQLite file or a `postgresql://` URL that keeps registrations and installations
    across restarts (not in the repr: a URL may hold a password)."""

    page_size: int = 100
    """Default and maximum `$top` of registration lists."""

    given_rule: str | None = None
    """The rule whose key came from the user (never echoed back), if any."""

    registration_ttl: timedelta | None = None
    """The hub's `RegistrationTtl`: each registration and installation written expires this
    long after the write (None: never, `9999-12-31T23:59:59.9999999`); expired ones are gone."""

    expired_handles: frozenset[str] = frozenset()
    """PNS handles this hub's pretend PNS reports expired (lower-case): an installation with
    such a `pushChannel` reads `pushChannelExpired: true` and is sent nothing."""

    @classmethod
    def build(
        cls,
        *,
        connection_string: str | None = None,
        hubs: tuple[str, ...] = (),
        db_path: str | None = None,
        allow_unknown_hubs: bool = False,
        registration_ttl: str | None = None,
        expired_handles: tuple[str, ...] = (),
    ) -> HubSettings:
        """Settings from CLI-style inputs: the given key keeps its rule name, the rest is generated.

        A rule named like the Listen default gets Listen only; any other name gets all rights.
        """
        rules: list[Rule] = []
        given: str | None = None
        if connection_string:
            parsed = parse_connection_string(connection_string)
            if not parsed.key_name or not parsed.key:
                raise ValueError(
                    "the connection string needs SharedAccessKeyName and SharedAccessKey"
                )
            rights = frozenset({Right.LISTEN}) if parsed.key_name == LISTEN_RULE else ALL_RIGHTS
            rules.append(Rule(name=parsed.key_name, key=parsed.key, rights=rights))
            given = parsed.key_name
        names = {r.name for r in rules}
        if FULL_RULE not in names:
            rules.append(Rule(name=FULL_RULE, key=generate_key(), rights=ALL_RIGHTS))
        if LISTEN_RULE not in names:
            rules.append(
                Rule(name=LISTEN_RULE, key=generate_key(), rights=frozenset({Right.LISTEN}))
            )
        return cls(
            rules=tuple(rules),
            hubs=frozenset(h.lower() for h in hubs or (DEFAULT_HUB,)),
            db_path=db_path,
            allow_unknown_hubs=allow_unknown_hubs,
            given_rule=given,
            registration_ttl=parse_duration(registration_ttl) if registration_ttl else None,
            expired_handles=frozenset(h.strip().lower() for h in expired_handles if h.strip()),
        )

    @property
    def keys(self) -> dict[str, str]:
        """Rule name → key, the shape `proxy.sas.verify` takes."""
        return {rule.name: rule.key for rule in self.rules}

    def serves(self, hub: str) -> bool:
        """Whether `hub` exists here (names compare case-insensitively, as on the service)."""
        return self.allow_unknown_hubs or hub.lower() in self.hubs

    def channel_expired(self, channel: object) -> bool:
        """Whether the pretend PNS reported this `pushChannel` gone (handles compare
        case-insensitively: the service upper-cases APNs tokens)."""
        return isinstance(channel, str) and channel.strip().lower() in self.expired_handles

    def rule(self, name: str) -> Rule | None:
        """The rule called `name`, if any."""
        return next((r for r in self.rules if r.name == name), None)

    def connection_string(self, host: str, *, rule: str = FULL_RULE, scheme: str = "sb") -> str:
        """What an app should use to reach this hub at `host` (`127.0.0.1:8082`)."""
        found = self.rule(rule)
        if found is None:
            raise KeyError(f"no rule named {rule!r}")
        return (
            f"Endpoint={scheme}://{host}/;SharedAccessKeyName={found.name};"
            f"SharedAccessKey={found.key}"
        )
