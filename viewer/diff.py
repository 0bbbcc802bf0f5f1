"""Findings as table rows and pointer marks; a device's history as semantic changes.

The timeline compares consecutive states of the same registration or installation:
tags added and removed, template changed, handle rotated, expiry moved, not lines of text.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from proxy.rules import Finding
from viewer import spelling

SCALARS = (
    ("expiration", "expiry", "expiry moved"),
    ("platform", "platform", "platform changed"),
    ("user_id", "user", "user changed"),
    ("push_variables", "variables", "push variables changed"),
)
DELETES = frozenset({"delete_registration", "delete_installation"})


Findings = tuple[Finding, ...] | list[Finding]


def side_of(f: Finding) -> str:
    """Which message a finding is about: `response.*` rules judge the answer."""
    return "response" if f.rule.startswith("response.") else "request"


def marks(findings: Findings, prefix: str = "", side: str | None = None) -> dict[str, list[str]]:
    """Pointer → rule ids, for pointers starting with `prefix` (which is cut off)."""
    out: dict[str, list[str]] = defaultdict(list)
    for f in findings:
        if side is not None and side_of(f) != side:
            continue
        if f.pointer is not None and f.pointer.startswith(prefix):
            target = f.pointer[len(prefix) :]
            if prefix == "header:":
                target = target.lower()
            if f.rule not in out[target]:
                out[target].append(f.rule)
    return dict(out)


def body_marks(findings: Findings, side: str) -> dict[str, list[str]]:
    """Marks that point into one side's body: element names and JSON pointers."""
    return {
        k: v for k, v in marks(findings, side=side).items()
        if ":" not in k and k not in ("status", "request-line", "")
    }  # fmt: skip


def finding_json(f: Finding) -> dict[str, Any]:
    return {**f.as_json(), "pointer": f.pointer}


@dataclass(frozen=True, slots=True)
class Change:
    """One semantic difference between two states of a device."""

    kind: str
    """new, deleted, handle, tags, template, expiry, platform, user, variables."""

    summary: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    before: str | None = None
    after: str | None = None


@dataclass(slots=True)
class Entry:
    """One exchange on a device's timeline and what it changed."""

    exchange: dict[str, Any]
    snapshots: list[dict[str, Any]]
    state: dict[str, Any] | None = None
    """The snapshot taken as the device's state after this exchange (None: unchanged)."""

    changes: list[Change] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        keep = ("id", "session", "started_at", "method", "path", "operation", "status")
        return {
            "exchange": {k: self.exchange.get(k) for k in keep},
            "snapshots": self.snapshots,
            "state": self.state["id"] if self.state else None,
            "changes": [_change_json(c) for c in self.changes],
        }


def _change_json(change: Change) -> dict[str, Any]:
    return {
        "kind": change.kind, "summary": change.summary, "added": list(change.added),
        "removed": list(change.removed), "before": change.before, "after": change.after,
    }  # fmt: skip


def identity(device: dict[str, Any]) -> str:
    return str(device.get("registration_id") or device.get("installation_id") or device["handle"])


def state_of(exchange: dict[str, Any], snapshots: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The service's answer if it sent one, else what a successful request stored."""
    status = exchange.get("status") or 0
    if not 200 <= status < 300:
        return None
    answered = [d for d in snapshots if d["direction"] == "response"]
    chosen = answered or snapshots
    return chosen[0] if chosen else None


def entries(history: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> list[Entry]:
    """Timeline entries with the changes each made to the state before it."""
    last: dict[str, dict[str, Any]] = {}
    out = []
    for exchange, snapshots in history:
        entry = Entry(exchange, snapshots, state_of(exchange, snapshots))
        status = exchange.get("status") or 0
        if exchange.get("operation") in DELETES and 200 <= status < 300:
            entry.changes.append(Change("deleted", "deleted"))
            last.pop(str(exchange.get("resource_id")), None)
        elif entry.state is not None:
            key = identity(entry.state)
            entry.changes = changes(last.get(key), entry.state)
            last[key] = entry.state
        out.append(entry)
    return out


def _tags(device: dict[str, Any]) -> list[str]:
    return [t for t in (device.get("tags") or "").split(",") if t]


def _templates(device: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Template name → (its meaning, to compare; its text, to show)."""
    found = json.loads(device["templates"]) if device.get("templates") else []
    return {
        str(t.get("name") or ""): (
            json.dumps(spelling.template(t), sort_keys=True),
            json.dumps({k: v for k, v in t.items() if v not in (None, "", [], {})},
                       ensure_ascii=False, indent=1),
        )
        for t in found
    }  # fmt: skip


SAME = {"expiration": spelling.instant}
"""Columns whose values have several spellings, and the function that gives one."""


def short(value: str | None, keep: int = 12) -> str:
    if not value:
        return "—"
    return value if len(value) <= keep * 2 + 1 else f"{value[:keep]}…{value[-6:]}"


def changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[Change]:
    """What changed between two states of one device."""
    if before is None:
        tags = tuple(_tags(after))
        return [Change("new", f"first seen ({after['platform']}, {short(after['handle'])})",
                       added=tags)]  # fmt: skip
    out = []
    if spelling.handle(before.get("platform"), before.get("handle")) != spelling.handle(
        after.get("platform"), after.get("handle")
    ):
        out.append(Change("handle", "handle rotated", before=before.get("handle"),
                          after=after.get("handle")))  # fmt: skip
    old, new = _tags(before), _tags(after)
    added = tuple(t for t in new if t not in old)
    removed = tuple(t for t in old if t not in new)
    if added or removed:
        out.append(Change("tags", f"tags +{len(added)} −{len(removed)}", added, removed))
    old_t, new_t = _templates(before), _templates(after)
    for name in sorted(set(old_t) | set(new_t)):
        was, now = old_t.get(name), new_t.get(name)
        if (was and was[0]) != (now and now[0]):
            label = f"template {name!r}" if name else "template"
            verb = "added" if was is None else "removed" if now is None else "changed"
            out.append(Change("template", f"{label} {verb}", before=was and was[1],
                              after=now and now[1]))  # fmt: skip
    for column, kind, label in SCALARS:
        same = SAME.get(column, lambda v: v)
        if same(before.get(column)) != same(after.get(column)):
            out.append(Change(kind, label, before=before.get(column), after=after.get(column)))
    return out
