"""An accepted installation PATCH applied to the recorded installation (spec §8).

Only what decides who a send reaches: tags (the installation's and each template's),
`pushChannel`, `userId` and which templates exist. `add /tags` with a string appends one
tag, with an array (or an array sent as a JSON string) appends them all; `/tags/{tag}`
addresses a tag by value; `replace /pushChannel` clears `pushChannelExpired`.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from proxy.model import Device, PatchOp, Template

__all__ = ["apply_patch"]


def _value(text: str | None) -> Any:
    """A PatchOp value (JSON text; plain strings kept as they are) decoded once."""
    if text is None:
        return None
    if text[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _tag_list(text: str | None) -> list[str]:
    value = _value(text)
    items = value if isinstance(value, list) else [value]
    return [t for t in items if isinstance(t, str) and t]


def _tags(current: tuple[str, ...], op: str, rest: list[str], text: str | None) -> tuple[str, ...]:
    tags = list(current)
    if rest:
        tags = [t for t in tags if t != rest[0]] if op == "remove" else [*tags, rest[0]]
    elif op == "remove":
        tags = []
    elif op == "replace":
        tags = _tag_list(text)
    else:
        tags += _tag_list(text)
    return tuple(dict.fromkeys(tags))


def _template(name: str, text: str | None) -> Template | None:
    value = _value(text)
    if not isinstance(value, dict):
        return None
    tags = value.get("tags")
    return Template(
        name=name,
        body=value.get("body") if isinstance(value.get("body"), str) else None,
        tags=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
    )


def _templates(device: Device, op: str, rest: list[str], text: str | None) -> Device:
    if not rest:
        return device
    name, parts = rest[0], rest[1:]
    templates = {t.name: t for t in device.templates}
    if not parts:
        made = _template(name, text) if op != "remove" else None
        if made is None:
            templates.pop(name, None)
        else:
            templates[name] = made
    elif name in templates and parts[0] == "tags":
        found = templates[name]
        templates[name] = replace(found, tags=_tags(found.tags, op, parts[1:], text))
    return replace(device, templates=tuple(templates.values()))


def apply_patch(device: Device, ops: tuple[PatchOp, ...]) -> Device:
    """The installation after the operations (ones that do not change targeting are skipped)."""
    for item in ops:
        if not item.path.startswith("/") or item.path == "/":
            continue
        segments = [s.replace("~1", "/").replace("~0", "~") for s in item.path[1:].split("/")]
        head, rest = segments[0], segments[1:]
        if head == "tags":
            device = replace(device, tags=_tags(device.tags, item.op, rest, item.value))
        elif head == "templates":
            device = _templates(device, item.op, rest, item.value)
        elif head == "pushChannel" and not rest and item.op != "remove":
            channel = _value(item.value)
            handle = channel.get("endpoint") if isinstance(channel, dict) else item.value
            device = replace(device, handle=handle, push_channel_expired=False)
        elif head == "userId" and not rest:
            device = replace(device, user_id=None if item.op == "remove" else item.value)
    return device
