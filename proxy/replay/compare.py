"""Compare an original answer with the replayed one by meaning, not by bytes.

Compared: the status, the Notification Hubs error code, the body format and every
decoded record (platform, handle, tags as a set, templates, user, installation id,
push variables, platform extras). Ignored, because they legitimately differ from hub
to hub and run to run: registration ids, ETags, dates, tracking ids, expiration
stamps, element and key order, XML namespace prefixes, error detail text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from proxy.model import Decoded, Device, Op, Platform

Verdict = Literal["same", "different", "failed", "skipped"]

_LISTS = frozenset(
    {Op.LIST_REGISTRATIONS, Op.LIST_REGISTRATIONS_BY_TAG, Op.LIST_REGISTRATIONS_BY_CHANNEL}
)
_SENDS = frozenset(
    {
        Op.SEND,
        Op.SEND_DIRECT,
        Op.SEND_BATCH,
        Op.SCHEDULE_SEND,
        Op.READ_NOTIFICATION,
        Op.CANCEL_SCHEDULED_SEND,
    }
)
_HEX_HANDLES = frozenset({Platform.APNS})


@dataclass(frozen=True, slots=True)
class Difference:
    """One field whose meaning differs: where, and the two values as text."""

    field: str
    original: str | None
    replay: str | None

    def __str__(self) -> str:
        return f"{self.field}: {self.original} → {self.replay}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """The verdict on one replayed exchange."""

    verdict: Verdict
    differences: tuple[Difference, ...] = ()
    notes: tuple[str, ...] = ()


def _json_text(value: str | None) -> object:
    try:
        return json.loads(value) if value else None
    except ValueError:
        return value


def meaning(device: Device) -> dict[str, object]:
    """What a record says, with the fields that legitimately vary left out."""
    handle = device.handle
    if handle and device.platform in _HEX_HANDLES:
        handle = handle.lower()
    return {
        "kind": device.kind,
        "platform": str(device.platform),
        "handle": handle,
        "tags": sorted(set(device.tags)),
        "templates": sorted(
            (t.name or "", t.body or "", sorted(t.headers), sorted(set(t.tags)), t.priority or "")
            for t in device.templates
        ),
        "user_id": device.user_id,
        "installation_id": device.installation_id,
        "push_variables": _json_text(device.push_variables),
        "extra": sorted(device.extra),
    }


def _show(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def record_diff(label: str, was: Device, now: Device) -> list[Difference]:
    """Field-by-field differences between two records."""
    a, b = meaning(was), meaning(now)
    return [Difference(f"{label}.{k}", _show(a[k]), _show(b[k])) for k in a if a[k] != b[k]]


def _key(device: Device) -> str:
    return json.dumps(meaning(device), sort_keys=True, default=str)


def label(device: Device) -> str:
    """A list record named by what it is, never by its registration id (which differs)."""
    handle = device.handle or "no handle"
    if len(handle) > 16:
        handle = f"{handle[:8]}…{handle[-4:]}"
    names = sorted(t.name or "" for t in device.templates)
    template = f" template {','.join(names)}" if device.templates else ""
    return f"record[{device.platform} {handle}{template}]"


def labels(devices: tuple[Device, ...]) -> list[str]:
    """Each record's label; a repeated one (duplicate registrations) gets its ordinal."""
    plain = [label(d) for d in devices]
    seen: dict[str, int] = {}
    out = []
    for name in plain:
        seen[name] = seen.get(name, 0) + 1
        repeated = plain.count(name) > 1
        out.append(f"{name[:-1]} #{seen[name]}]" if repeated else name)
    return out


def list_diff(
    was: tuple[Device, ...], now: tuple[Device, ...], ids: dict[str, str]
) -> tuple[list[Difference], list[str]]:
    """Session-created records matched by mapped id; the rest matched by meaning.

    Differences name each record by platform, handle and template, never by the
    registration ids the two hubs assigned.
    """
    diffs: list[Difference] = []
    by_id = {d.registration_id: d for d in now if d.registration_id}
    rest_was: list[Device] = []
    used: set[str] = set()
    for device, name in zip(was, labels(was), strict=True):
        target = ids.get(device.registration_id or "")
        if target is None:
            rest_was.append(device)
        elif target in by_id:
            used.add(target)
            diffs += record_diff(name, device, by_id[target])
        else:
            diffs.append(Difference(name, "listed", "missing"))
    rest_now = [d for d in now if (d.registration_id or "") not in used]
    created = set(ids.values())
    for device, name in zip(now, labels(now), strict=True):
        if device in rest_now and device.registration_id in created:
            diffs.append(Difference(name, "missing", "listed"))
    pool = [_key(d) for d in rest_now if d.registration_id not in created]
    unmatched = 0
    for device in rest_was:
        key = _key(device)
        if key in pool:
            pool.remove(key)
        else:
            unmatched += 1
    notes = []
    if unmatched or pool:
        notes.append(
            f"records not created by this session, not compared: {unmatched} only in "
            f"the original, {len(pool)} only in the replay"
        )
    return diffs, notes


def compare(
    op: Op,
    original: tuple[int | None, Decoded],
    replay: tuple[int | None, Decoded],
    ids: dict[str, str],
    *,
    bodies: bool = True,
) -> Comparison:
    """Compare two answers to the same request; `ids` maps original ids to the replay's.

    `bodies=False` compares the status only (the recorded answer was truncated).
    """
    (was_status, was), (now_status, now) = original, replay
    diffs: list[Difference] = []
    notes: list[str] = [] if bodies else ["original answer truncated: only the status compared"]
    if was_status != now_status:
        diffs.append(Difference("status", str(was_status), str(now_status)))
    was_body, now_body = was.response, now.response
    if was_body is None or now_body is None or not bodies:
        verdict: Verdict = "different" if diffs else "same"
        return Comparison(verdict=verdict, differences=tuple(diffs), notes=tuple(notes))
    was_code = was_body.error.code if was_body.error else None
    now_code = now_body.error.code if now_body.error else None
    if was_code != now_code:
        diffs.append(Difference("error_code", was_code, now_code))
    known = {"atom", "json", "error", "empty"}
    if (
        op not in _SENDS
        and was_body.format != now_body.format
        and {was_body.format, now_body.format} <= known
    ):
        diffs.append(Difference("format", was_body.format, now_body.format))
    for side, body in (("original", was_body), ("replay", now_body)):
        if body.decode_error:
            notes.append(f"{side} body did not decode: {body.decode_error}")
    if op in _LISTS:
        more, list_notes = list_diff(was_body.devices, now_body.devices, ids)
        diffs += more
        notes += list_notes
    elif len(was_body.devices) != len(now_body.devices):
        diffs.append(Difference("records", str(len(was_body.devices)), str(len(now_body.devices))))
    else:
        for position, (a, b) in enumerate(zip(was_body.devices, now_body.devices, strict=True)):
            diffs += record_diff(f"record[{position}]", a, b)
    return Comparison(
        verdict="different" if diffs else "same", differences=tuple(diffs), notes=tuple(notes)
    )
