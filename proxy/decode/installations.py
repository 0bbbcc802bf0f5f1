"""Installation JSON and JSON Patch bodies to `Device` and `PatchOp` records."""

from __future__ import annotations

import json
from typing import Any

from proxy.decode.xml import MAX_BODY_BYTES, DecodeError, decode_text
from proxy.model import Device, PatchOp, Platform, Template

__all__ = [
    "JsonObject",
    "decode_installation",
    "decode_patch",
    "looks_like_installation",
    "parse_json",
    "parse_json_text",
]


class JsonObject(dict[str, Any]):
    """A decoded JSON object that remembers its keys in order, repeats included."""

    pairs: list[tuple[str, Any]]


def _reject_constant(name: str) -> Any:
    raise DecodeError(f"{name} is not valid JSON")


def parse_json(body: bytes, *, charset: str | None = None) -> tuple[Any, list[str]]:
    """Parse an untrusted JSON body; returns the value and decode notes (duplicate keys)."""
    if len(body) > MAX_BODY_BYTES:
        raise DecodeError(f"body too large to decode ({len(body)} bytes)")
    charset_notes: list[str] = []
    text, _ = decode_text(body, charset, notes=charset_notes)
    value, notes = parse_json_text(text)
    return value, charset_notes + notes


def parse_json_text(text: str) -> tuple[Any, list[str]]:
    """Parse JSON text strictly: no NaN/Infinity, bounded nesting, duplicate keys noted."""
    notes: list[str] = []

    def hook(pairs: list[tuple[str, Any]]) -> JsonObject:
        obj = JsonObject(pairs)
        obj.pairs = pairs
        if len(obj) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    notes.append(f"duplicate JSON key {key!r} (the last value is used)")
                seen.add(key)
        return obj

    try:
        value = json.loads(text, object_pairs_hook=hook, parse_constant=_reject_constant)
    except RecursionError:
        raise DecodeError("JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise DecodeError(str(exc)) from None
    return value, notes


def _json_text(value: Any) -> str:
    """Compact JSON text of a decoded value (strings stay unquoted)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _get(obj: dict[str, Any], *names: str, lowered: dict[str, str] | None = None) -> Any:
    """The first of `names` present, matched case-insensitively (`lowered`: the object's
    keys by their lower case, when the caller already has them)."""
    if lowered is None:
        lowered = _lowered(obj)
    for name in names:
        key = lowered.get(name.lower())
        if key is not None:
            return obj[key]
    return None


def _lowered(obj: dict[str, Any]) -> dict[str, str]:
    """The object's keys by their lower case (the last of keys differing only in case wins)."""
    return {key.lower(): key for key in obj}


def _tags(value: Any, where: str, notes: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return tuple(value)
    if isinstance(value, str):
        notes.append(f"{where} is a string, not an array")
        return tuple(t.strip() for t in value.split(",") if t.strip())
    notes.append(f"{where} is not an array of strings")
    return ()


def looks_like_installation(value: Any) -> bool:
    """Whether a decoded JSON value has the shape of an installation."""
    if not isinstance(value, dict):
        return False
    lowered = _lowered(value)
    return any(
        _get(value, key, lowered=lowered) is not None
        for key in ("installationId", "pushChannel", "platform")
    )


_KNOWN = frozenset(
    {"installationid", "userid", "platform", "pushchannel", "pushchannelexpired",
     "expiredpushchannel", "expirationtime", "tags", "pushvariables", "templates"}
)


def decode_installation(obj: dict[str, Any], notes: list[str]) -> Device:
    """One installation object to a Device (kind "installation")."""
    lowered = _lowered(obj)

    def get(*names: str) -> Any:
        return _get(obj, *names, lowered=lowered)

    platform_value = get("platform")
    platform = Platform.parse(platform_value)
    if platform is Platform.UNKNOWN and platform_value is not None:
        notes.append(f"unknown platform {platform_value!r}")
    extra: list[tuple[str, str]] = []
    handle = _push_channel(get("pushChannel"), extra, notes)
    expired = get("pushChannelExpired", "expiredPushChannel")
    if expired is not None and not isinstance(expired, bool):
        notes.append(f"pushChannelExpired is not a boolean: {_json_text(expired)}")
    for key, value in obj.items():
        if key.lower() not in _KNOWN:
            extra.append((key, _json_text(value)))
    variables = get("pushVariables")
    pairs = obj.pairs if isinstance(obj, JsonObject) else list(obj.items())
    return Device(
        kind="installation",
        source_type="installation",
        platform=platform,
        handle=handle,
        installation_id=_scalar(get("installationId")),
        user_id=_scalar(get("userId")),
        tags=_tags(get("tags"), "tags", notes),
        templates=_templates(get("templates"), notes),
        expiration=_scalar(get("expirationTime")),
        push_variables=None if variables is None else _json_text(variables),
        push_channel_expired=expired if isinstance(expired, bool) else None,
        extra=tuple(extra),
        elements=tuple(key for key, _ in pairs),
    )


def _scalar(value: Any) -> str | None:
    return None if value is None else _json_text(value)


def _push_channel(value: Any, extra: list[tuple[str, str]], notes: list[str]) -> str | None:
    """The handle; a browser subscription (object or JSON string) gives its endpoint."""
    subscription = value
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            subscription, _ = parse_json_text(value)
        except DecodeError as exc:
            notes.append(f"pushChannel looks like JSON but does not parse: {exc}")
            return value
        notes.append("pushChannel is a JSON string holding a browser subscription")
    if isinstance(subscription, dict):
        for name, key in (("P256DH", "p256dh"), ("Auth", "auth")):
            part = _get(subscription, key)
            if part is not None:
                extra.append((name, _json_text(part)))
        return _scalar(_get(subscription, "endpoint"))
    return _scalar(value)


def _templates(value: Any, notes: list[str]) -> tuple[Template, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        notes.append("templates is not an object")
        return ()
    templates: list[Template] = []
    for name, spec in value.items():
        if not isinstance(spec, dict):
            notes.append(f"template {name!r} is not an object")
            continue
        headers = _get(spec, "headers")
        header_pairs: tuple[tuple[str, str], ...] = ()
        if isinstance(headers, dict):
            header_pairs = tuple((str(k), _json_text(v)) for k, v in headers.items())
        elif headers is not None:
            notes.append(f"template {name!r} headers is not an object")
        templates.append(
            Template(
                name=name,
                body=_scalar(_get(spec, "body")),
                headers=header_pairs,
                expiry=_scalar(_get(spec, "expiry")),
                tags=_tags(_get(spec, "tags"), f"template {name!r} tags", notes),
            )
        )
    return tuple(templates)


def decode_patch(items: list[Any], notes: list[str]) -> tuple[PatchOp, ...]:
    """A JSON Patch array to PatchOps; values are strings as-is, others JSON text."""
    ops: list[PatchOp] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            notes.append(f"patch operation {index} is not an object")
            continue
        op, path = _get(item, "op"), _get(item, "path")
        has_value = any(key.lower() == "value" for key in item)
        ops.append(
            PatchOp(
                op=_json_text(op) if op is not None else "",
                path=_json_text(path) if path is not None else "",
                value=_json_text(_get(item, "value")) if has_value else None,
            )
        )
    return tuple(ops)
