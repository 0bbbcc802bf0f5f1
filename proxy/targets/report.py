"""`hubscope targets` output: who is reached, who is left out and why, step by step on request."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from proxy.targets.reach import Target, Verdict
from proxy.targets.state import Hub, iso

__all__ = ["Report", "as_json", "entry", "render_text"]

_RANK = {"tags": 0, "expiry": 1, "push-channel": 2, "exists": 3, "handle": 4, "format": 5}

TEXT_LIMIT = 50
"""Rows per list in text output; `--output json` lists everything."""


@dataclass(frozen=True, slots=True)
class Report:
    hub: Hub | None
    at: float | None
    target: Target | None
    refused: str | None
    """Why the service would refuse the send (400), if it would."""

    verdicts: list[Verdict]
    explain: str | None = None
    """The handle, installation id or registration id asked about."""

    explained: list[Verdict] | None = None

    @property
    def reached(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.reached]

    @property
    def missed(self) -> list[Verdict]:
        """Left out, the likeliest surprises first: tags, expiry, channel, deletion, format."""
        missed = [v for v in self.verdicts if not v.reached]
        return sorted(missed, key=lambda v: _RANK.get(v.failed.check if v.failed else "", 9))


def entry(verdict: Verdict) -> dict[str, Any]:
    """One verdict as JSON: the record, the registration, and the first failed check."""
    snapshot, reg = verdict.snapshot, verdict.registration
    failed = verdict.failed
    return {
        "kind": snapshot.kind,
        "id": snapshot.ident,
        "platform": (reg.platform if reg else snapshot.platform).value,
        "handle": reg.handle if reg else snapshot.handle,
        "registration": reg.label if reg else None,
        "registration_id": reg.registration_id if reg else None,
        "template": reg.template_name if reg else None,
        "tags": list(reg.tags) if reg else [],
        "reached": verdict.reached,
        "check": failed.check if failed else None,
        "reason": failed.detail if failed else None,
    }


def as_json(report: Report) -> str:
    target = report.target
    out: dict[str, Any] = {
        "hub": str(report.hub) if report.hub else None,
        "at": iso(report.at) if report.at is not None else None,
        "format": target.format if target else None,
        "expression": target.expression.text if target and target.expression else None,
        "refused": report.refused,
        "reached": [entry(v) for v in report.reached],
        "missed": [entry(v) for v in report.missed],
    }
    if report.explain is not None:
        out["explain"] = {
            "for": report.explain,
            "registrations": [
                {
                    **entry(v),
                    "steps": [{"check": s.check, "ok": s.ok, "detail": s.detail} for s in v.steps],
                }
                for v in report.explained or []
            ],
        }
    return json.dumps(out, indent=2, ensure_ascii=False)


def _who(verdict: Verdict) -> str:
    snapshot, reg = verdict.snapshot, verdict.registration
    handle = (reg.handle if reg else snapshot.handle) or "—"
    short = handle if len(handle) <= 24 else handle[:21] + "…"
    which = reg.label if reg else "—"
    return f"{snapshot.kind} {snapshot.ident}  {snapshot.platform.value}  {short}  {which}"


def _devices(verdicts: list[Verdict]) -> int:
    return len({(v.snapshot.kind, v.snapshot.ident) for v in verdicts})


def _listing(title: str, verdicts: list[Verdict], *, reasons: bool) -> list[str]:
    lines = [f"{title}: {len(verdicts)} registrations on {_devices(verdicts)} devices"]
    for verdict in verdicts[:TEXT_LIMIT]:
        line = f"  {_who(verdict)}"
        if reasons:
            line += f"\n      {verdict.reason}"
        elif verdict.registration and verdict.registration.tags:
            line += f"  [{', '.join(verdict.registration.tags)}]"
        lines.append(line)
    if len(verdicts) > TEXT_LIMIT:
        lines.append(f"  … and {len(verdicts) - TEXT_LIMIT} more (--output json lists all)")
    return lines


def render_text(report: Report) -> str:
    target = report.target
    head = [
        f"hub {report.hub}" if report.hub else "hub (none recorded)",
        f"format {target.format}" if target and target.format else "any format",
        f"`{target.text}`" if target else "",
        f"as of {iso(report.at)}" if report.at is not None else "as of the end of the recording",
    ]
    lines = [" · ".join(p for p in head if p)]
    if report.refused:
        lines.append(f"The service refuses this send (400): {report.refused}")
        return "\n".join(lines)
    lines += _listing("Reached", report.reached, reasons=False)
    lines += _listing("Left out", report.missed, reasons=True)
    if report.explain is not None:
        lines.append("")
        lines += explain_text(report.explain, report.explained or [])
    return "\n".join(lines)


def explain_text(ident: str, verdicts: list[Verdict]) -> list[str]:
    if not verdicts:
        return [
            f"Nothing recorded for {ident!r} before this time: no registration or "
            "installation with that id or handle."
        ]
    lines = [f"Why {ident}:"]
    for verdict in verdicts:
        snapshot, reg = verdict.snapshot, verdict.registration
        which = f"{reg.label} registration" if reg else "record"
        rid = f" {reg.registration_id}" if reg and reg.registration_id else ""
        outcome = "reached" if verdict.reached else "not reached"
        lines.append(f"  {snapshot.kind} {snapshot.ident}, {which}{rid}: {outcome}")
        for step in verdict.steps:
            lines.append(f"    {'✓' if step.ok else '✗'} {step.check}: {step.detail}")
    return lines
