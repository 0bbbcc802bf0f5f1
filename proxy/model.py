"""Normalized Notification Hubs records: one device model for Atom and JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal


class Platform(StrEnum):
    """The one platform vocabulary used everywhere (lower-case wire values)."""

    APNS = "apns"
    WNS = "wns"
    MPNS = "mpns"
    GCM = "gcm"
    FCMV1 = "fcmv1"
    ADM = "adm"
    BAIDU = "baidu"
    BROWSER = "browser"
    XIAOMI = "xiaomi"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: object) -> Platform:
        """Case-insensitive lookup; anything unrecognised is UNKNOWN."""
        if isinstance(value, str):
            try:
                return cls(value.strip().lower())
            except ValueError:
                return cls.UNKNOWN
        return cls.UNKNOWN


class Op(StrEnum):
    """Every data-plane operation hubscope tells apart."""

    CREATE_REGISTRATION = "create_registration"
    CREATE_OR_UPDATE_REGISTRATION = "create_or_update_registration"
    UPDATE_REGISTRATION = "update_registration"
    CREATE_REGISTRATION_ID = "create_registration_id"
    READ_REGISTRATION = "read_registration"
    DELETE_REGISTRATION = "delete_registration"
    LIST_REGISTRATIONS = "list_registrations"
    LIST_REGISTRATIONS_BY_TAG = "list_registrations_by_tag"
    LIST_REGISTRATIONS_BY_CHANNEL = "list_registrations_by_channel"
    CREATE_OR_OVERWRITE_INSTALLATION = "create_or_overwrite_installation"
    READ_INSTALLATION = "read_installation"
    PATCH_INSTALLATION = "patch_installation"
    DELETE_INSTALLATION = "delete_installation"
    SEND = "send"
    SEND_DIRECT = "send_direct"
    SEND_BATCH = "send_batch"
    SCHEDULE_SEND = "schedule_send"
    CANCEL_SCHEDULED_SEND = "cancel_scheduled_send"
    READ_NOTIFICATION = "read_notification"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class Operation:
    """What a request was, read from its method, path and query."""

    name: Op
    hub: str | None = None
    resource_id: str | None = None
    """Registration or installation id (or tag, for by-tag lists) from the path."""

    api_version: str | None = None
    top: int | None = None
    """`$top` page size on list calls."""

    continuation_token: str | None = None
    filter: str | None = None
    """`$filter` expression on list-by-channel calls, decoded."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Template:
    """A template of a registration or an installation."""

    name: str | None
    body: str | None
    headers: tuple[tuple[str, str], ...] = ()
    expiry: str | None = None
    tags: tuple[str, ...] = ()
    priority: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Device:
    """One device snapshot, whether it came as an Atom registration or JSON installation."""

    kind: Literal["registration", "installation"]
    source_type: str
    """`AppleTemplateRegistrationDescription`, `installation`, …"""

    platform: Platform
    handle: str | None = None
    """DeviceToken / ChannelUri / GcmRegistrationId / … / pushChannel (browser: endpoint)."""

    registration_id: str | None = None
    installation_id: str | None = None
    user_id: str | None = None
    tags: tuple[str, ...] = ()
    templates: tuple[Template, ...] = ()
    """Registration templates have one entry; installations one per named template."""

    expiration: str | None = None
    etag: str | None = None
    push_variables: str | None = None
    """JSON text of the push variables object, when present."""

    push_channel_expired: bool | None = None
    extra: tuple[tuple[str, str], ...] = ()
    """Platform extras kept as text: P256DH, Auth, BaiduChannelId, SecondaryTileName, …"""

    elements: tuple[str, ...] = ()
    """Element (Atom) or key (JSON) names in the order they appeared, for order rules."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PatchOp:
    """One JSON Patch operation of an installation PATCH."""

    op: str
    path: str
    value: str | None = None
    """The value as JSON text (strings unquoted), or None when absent."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NhError:
    """An `<Error><Code/><Detail/></Error>` body."""

    code: str | None
    detail: str | None
    tracking_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodedBody:
    """What one body (request or response) decoded to. Never raised: errors are data."""

    format: Literal["atom", "json", "error", "empty", "other"]
    devices: tuple[Device, ...] = ()
    patch: tuple[PatchOp, ...] = ()
    error: NhError | None = None
    decode_error: str | None = None
    """'failed to parse as Atom: …', kept beside the raw bytes."""

    notes: tuple[str, ...] = ()
    """Things worth knowing that are not errors: duplicate JSON keys, encoding fallbacks, …"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Decoded:
    """The full understanding of one exchange."""

    operation: Operation
    request: DecodedBody
    response: DecodedBody | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
