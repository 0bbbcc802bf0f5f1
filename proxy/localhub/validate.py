"""Read a description the way the service's DataContract deserializer does.

A required element out of order fails with the service's message; an optional
element out of order (or unknown) is skipped, so its value is silently lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from proxy.contract import CONNECT_NS, Contract, contract_for
from proxy.model import Device, Platform

__all__ = ["Accepted", "Rejected", "check", "fields_of", "position"]

INVALID_DESCRIPTION = "The specified resource description is invalid."


@dataclass(frozen=True, slots=True)
class Accepted:
    """The description parses; `kept` are the elements the service actually reads."""

    contract: Contract
    kept: frozenset[str]
    dropped: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rejected:
    """The service would answer 400 with this detail."""

    message: str


_CDATA = re.compile(r"<!\[CDATA\[.*?\]\]>", re.DOTALL)


def position(text: str, name: str, occurrence: int, *, closing: bool = False) -> tuple[int, int]:
    """Line and column (1-based, at the name) of the n-th `<name` (or `</name`) in the body."""
    blanked = _CDATA.sub(lambda m: " " * len(m.group(0)), text)
    pattern = rf"<{'/' if closing else ''}(?:[\w.-]+:)?{re.escape(name)}(?=[\s/>])"
    matches = list(re.finditer(pattern, blanked))
    if not matches:
        return 1, 1
    offset = matches[min(occurrence, len(matches) - 1)].start() + (2 if closing else 1)
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _unexpected(text: str, node: str, name: str, expected: str, occurrence: int) -> Rejected:
    line, col = position(text, name, occurrence, closing=node == "EndElement")
    return Rejected(
        f"Failed to parse RegistrationDescription Error in line {line} position {col}. "
        f"'{node}' '{name}' from namespace '{CONNECT_NS}' is not expected. "
        f"Expecting element '{expected}'."
    )


def check(device: Device, text: str) -> Accepted | Rejected:
    """Walk the elements in document order against the contract's member order."""
    contract = contract_for(device.source_type)
    if contract is None:
        return Rejected(INVALID_DESCRIPTION)
    names = contract.names
    required = [i for i, (_, req) in enumerate(contract.members) if req]

    def next_required(after: int) -> int | None:
        return next((i for i in required if i > after), None)

    member, pending = -1, next_required(-1)
    kept: set[str] = set()
    dropped: list[str] = []
    seen: dict[str, int] = {}
    for name in device.elements:
        occurrence = seen.get(name, 0)
        seen[name] = occurrence + 1
        index = next((i for i in range(member + 1, len(names)) if names[i] == name), None)
        if index is None:
            dropped.append(name)
            continue
        if pending is not None and pending < index:
            return _unexpected(text, "Element", name, names[pending], occurrence)
        member, pending = index, next_required(index)
        kept.add(name)
    if pending is not None:
        return _unexpected(text, "EndElement", contract.kind, names[pending], 0)
    return _semantic(device, Accepted(contract, frozenset(kept), tuple(dropped)))


_MANDATORY_HEADER = {Platform.WNS: "X-WNS-Type", Platform.MPNS: "X-WindowsPhone-Target"}


def _semantic(device: Device, accepted: Accepted) -> Accepted | Rejected:
    """Checks the service makes after deserializing: handles present, mandatory headers."""
    fields = dict(fields_of(device, accepted))
    required = {name for name, req in accepted.contract.members if req}
    for name in accepted.contract.handle_fields:
        if name in required and not fields.get(name, "").strip():
            return Rejected(INVALID_DESCRIPTION)
    mandatory = _MANDATORY_HEADER.get(accepted.contract.platform)
    if accepted.contract.is_template and mandatory:
        headers = device.templates[0].headers if device.templates else ()
        if not any(h.lower() == mandatory.lower() for h, _ in headers):
            return Rejected(f"The mandatory HTTP header '{mandatory}' is missing.")
    return accepted


def fields_of(device: Device, accepted: Accepted) -> tuple[tuple[str, str], ...]:
    """Platform and template element values the service keeps, in contract order."""
    extra = dict(device.extra)
    template = device.templates[0] if device.templates else None
    from_template = {
        "BodyTemplate": template.body if template else None,
        "TemplateName": template.name if template else None,
        "Expiry": template.expiry if template else None,
        "Priority": template.priority if template else None,
    }
    first_handle = accepted.contract.handle_fields[0]
    pairs: list[tuple[str, str]] = []
    for name in accepted.contract.names:
        if name not in accepted.kept or name in ("ETag", "ExpirationTime", "RegistrationId"):
            continue
        if name in ("Tags", "PushVariables") or name.endswith("Headers"):
            continue
        value = extra.get(name) or from_template.get(name)
        if value is None and name == first_handle:
            value = device.handle
        if value is not None:
            pairs.append((name, value.upper() if name == "DeviceToken" else value))
    return tuple(pairs)
