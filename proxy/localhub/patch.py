"""JSON Patch on installations with the service's semantics (§8), not plain RFC 6902.

`add /tags` with a string appends one tag, `/tags/{value}` addresses a tag by value,
and values that are objects or arrays may arrive as JSON-encoded strings.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from proxy.localhub.installations import Doc, InvalidInstallation

__all__ = ["apply_patch"]

_OPS = frozenset({"add", "remove", "replace"})
_TEMPLATE_PARTS = frozenset({"body", "headers", "expiry", "tags"})


def _decoded(value: object) -> object:
    """A value sent as a JSON-encoded string (`'["a"]'`, `'{"body": …}'`) decoded once."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _tag_list(value: object) -> list[str]:
    value = _decoded(value)
    items = value if isinstance(value, list) else [value]
    tags = [t for t in items if isinstance(t, str) and t]
    if len(tags) != len([t for t in items if t != ""]):
        raise InvalidInstallation("tags must be strings")
    return tags


def _tags_op(holder: dict[str, Any], op: str, rest: list[str], value: object) -> None:
    """`/tags`, `/tags/{tag}` (on the installation or on one template)."""
    current: list[str] = list(holder.get("tags", []))
    if rest:
        if op == "remove":
            current = [t for t in current if t != rest[0]]
        else:
            current.append(rest[0])
    elif op == "remove":
        current = []
    elif op == "replace":
        current = _tag_list(value)
    else:
        current.extend(_tag_list(value))
    if current:
        holder["tags"] = list(dict.fromkeys(current))
    else:
        holder.pop("tags", None)


def _set(holder: dict[str, Any], key: str, op: str, value: object) -> None:
    if op == "remove":
        holder.pop(key, None)
    else:
        holder[key] = value


def _template_op(doc: Doc, op: str, rest: list[str], value: object) -> None:
    templates: dict[str, Any] = doc.setdefault("templates", {})
    if not rest:
        raise InvalidInstallation("a template path needs a template name")
    name, parts = rest[0], rest[1:]
    if not parts:
        _set(templates, name, op, _decoded(value))
    else:
        template = templates.get(name)
        if not isinstance(template, dict):
            raise InvalidInstallation(f"Template '{name}' does not exist")
        if parts[0] not in _TEMPLATE_PARTS:
            raise InvalidInstallation(f"'{parts[0]}' is not a template property")
        if parts[0] == "tags":
            _tags_op(template, op, parts[1:], value)
        else:
            _set(template, parts[0], op, _decoded(value) if parts[0] == "headers" else value)
    if not templates:
        doc.pop("templates", None)


def _apply_one(doc: Doc, op: str, segments: list[str], value: object) -> None:
    head, rest = segments[0], segments[1:]
    if head == "tags":
        _tags_op(doc, op, rest, value)
    elif head == "templates":
        _template_op(doc, op, rest, value)
    elif head in ("userId", "pushChannel") and not rest:
        if head == "pushChannel" and op == "remove":
            raise InvalidInstallation("pushChannel cannot be removed")
        _set(doc, head, op, _decoded(value) if head == "pushChannel" else value)
        if head == "pushChannel":
            doc["pushChannelExpired"] = False
    elif head == "pushVariables":
        variables: dict[str, Any] = doc.setdefault("pushVariables", {})
        if rest:
            _set(variables, rest[0], op, value)
        else:
            doc["pushVariables"] = {} if op == "remove" else _decoded(value)
        if not doc["pushVariables"]:
            doc.pop("pushVariables")
    elif head == "secondaryTiles" and rest:
        tiles: dict[str, Any] = doc.setdefault("secondaryTiles", {})
        tile = tiles.setdefault(rest[0], {}) if len(rest) > 1 else tiles
        _set(tile, rest[-1], op, _decoded(value))
        if not tiles:
            doc.pop("secondaryTiles")
    else:
        raise InvalidInstallation(f"The path '/{'/'.join(segments)}' cannot be patched")


def apply_patch(doc: Doc, body: object) -> Doc:
    """A patched copy of `doc`; raises InvalidInstallation for malformed operations."""
    if not isinstance(body, list) or not body:
        raise InvalidInstallation("The patch must be a non-empty JSON array of operations")
    out = copy.deepcopy(doc)
    for item in body:
        if not isinstance(item, dict):
            raise InvalidInstallation("Each patch operation must be an object")
        op, path = item.get("op"), item.get("path")
        if op not in _OPS:
            raise InvalidInstallation(f"The operation {op!r} is not supported")
        if not isinstance(path, str) or not path.startswith("/") or path == "/":
            raise InvalidInstallation(f"The path {path!r} is not valid")
        if op != "remove" and "value" not in item:
            raise InvalidInstallation(f"'{op}' on '{path}' needs a value")
        segments = [s.replace("~1", "/").replace("~0", "~") for s in path[1:].split("/")]
        _apply_one(out, str(op), segments, item.get("value"))
    return out
