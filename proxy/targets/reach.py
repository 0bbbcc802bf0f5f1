"""Who a send reaches, judged registration by registration, with the reason for each one missed.

The service's matching (spec §9.1, §9.3, §9.5, routing page): a native send reaches only
native registrations of its platform, a template send only template registrations (an
installation's templates included); a tag expression must be true for the registration's
tags; no header means a broadcast. A registration past its `ExpirationTime` is gone, and an
installation whose `pushChannelExpired` the service set gets nothing until a new channel.
The stand-in hub's debug send matches the same way (`tests/targets` checks they agree).
"""

from __future__ import annotations

from dataclasses import dataclass

from proxy.decode.sends import FORMATS, NATIVE_FORMATS, format_of
from proxy.model import Platform
from proxy.tagexpr import InvalidTagExpression, TagExpression, parse_tag_expression
from proxy.targets.explain import tag_step
from proxy.targets.state import Registered, Snapshot, expiry_of, iso

__all__ = ["InvalidTarget", "Step", "Target", "Verdict", "judge", "parse_target"]

UNSUPPORTED_FORMAT = "The header 'ServiceBusNotification-Format' is missing or not supported"


class InvalidTarget(ValueError):
    """The service would refuse the send (400); the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    """What a send aims at: a format (None: any), a tag expression (None: broadcast), or handles."""

    format: str | None = None
    expression: TagExpression | None = None
    handles: tuple[str, ...] = ()
    """A direct send's device handles: they are reached whatever is registered."""

    @property
    def text(self) -> str:
        if self.handles:
            return f"direct to {', '.join(self.handles)}"
        return self.expression.text if self.expression else "(broadcast)"


def parse_target(expression: str | None, fmt: str | None, handles: tuple[str, ...] = ()) -> Target:
    """A target as the service reads the headers; raises InvalidTarget with its 400 reason."""
    normal = fmt.strip().lower() if fmt is not None else None
    if normal is not None and normal not in FORMATS:
        raise InvalidTarget(UNSUPPORTED_FORMAT)
    parsed = None
    if expression is not None and expression.strip():
        try:
            parsed = parse_tag_expression(expression)
        except InvalidTagExpression as exc:
            raise InvalidTarget(str(exc)) from None
    return Target(normal, parsed, handles)


@dataclass(frozen=True, slots=True)
class Step:
    """One check of the matching, passed or not, in words."""

    check: str
    """`exists`, `expiry`, `push-channel`, `format`, `tags` or `handle`."""

    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether one registration (or a deleted record, `registration` None) is reached, and why."""

    snapshot: Snapshot
    registration: Registered | None
    steps: tuple[Step, ...]

    @property
    def reached(self) -> bool:
        return all(step.ok for step in self.steps)

    @property
    def failed(self) -> Step | None:
        return next((step for step in self.steps if not step.ok), None)

    @property
    def reason(self) -> str | None:
        """The first failed check in words; None when reached."""
        failed = self.failed
        return failed.detail if failed else None


def _exists(snapshot: Snapshot) -> Step:
    if snapshot.deleted:
        how = "deleted" if snapshot.operation.value.startswith("delete") else "removed"
        return Step(
            "exists",
            False,
            f"no registration left: {how} at {iso(snapshot.at)} by {snapshot.operation.value} "
            f"(exchange {snapshot.exchange_id})",
        )
    return Step(
        "exists",
        True,
        f"recorded by {snapshot.operation.value} at {iso(snapshot.at)} "
        f"(exchange {snapshot.exchange_id})",
    )


def _expiry(snapshot: Snapshot, when: float | None) -> Step:
    device = snapshot.device
    expires = expiry_of(device.expiration if device else None)
    if expires is None:
        return Step("expiry", True, "never expires")
    if when is not None and expires <= when:
        return Step(
            "expiry",
            False,
            f"expired at {iso(expires)} (ExpirationTime); the hub "
            "drops registrations past their expiration",
        )
    return Step("expiry", True, f"expires {iso(expires)}")


def _push_channel(snapshot: Snapshot) -> Step:
    device = snapshot.device
    if device is not None and device.push_channel_expired:
        return Step(
            "push-channel",
            False,
            f"pushChannelExpired is true (read at {iso(snapshot.at)}"
            "): the PNS rejected the handle; nothing is sent until a new pushChannel",
        )
    return Step("push-channel", True, "push channel not expired")


def _platform_name(platform: Platform) -> str:
    fmt = format_of(platform)
    return f"{platform.value} (format {fmt})" if fmt else platform.value


def _format(snapshot: Snapshot, reg: Registered, fmt: str | None) -> Step:
    if fmt is None:
        kind = reg.label if reg.template else "native"
        return Step("format", True, f"any format (a {kind} {reg.platform.value} registration)")
    if fmt == "template":
        if reg.template:
            return Step("format", True, f"template send: {reg.label} registration")
        names = [f"'{t.name}'" for t in snapshot.device.templates] if snapshot.device else []
        where = "this registration is native"
        if snapshot.kind == "installation":
            where = "this installation has no templates"
            if names:
                where = f"this is its native registration (templates {', '.join(names)} apart)"
        return Step(
            "format", False, f"format template reaches template registrations only; {where}"
        )
    platform = NATIVE_FORMATS.get(fmt)
    if reg.template:
        return Step(
            "format",
            False,
            f"format {fmt} is a native send: it reaches native "
            f"registrations only, not {reg.label} (send with format template)",
        )
    if platform is None or platform is not reg.platform:
        wanted = platform.value if platform else "no registration type"
        return Step(
            "format",
            False,
            f"format {fmt} reaches {wanted} registrations only; this "
            f"one is {_platform_name(reg.platform)}",
        )
    return Step("format", True, f"format {fmt}: a native {reg.platform.value} registration")


def _handle(reg: Registered | None, snapshot: Snapshot, handles: tuple[str, ...]) -> Step:
    handle = (reg.handle if reg else snapshot.handle) or ""
    if handle.lower() in {h.lower() for h in handles}:
        return Step("handle", True, f"direct send to this device's handle {handle}")
    return Step("handle", False, "direct send to other handles (" + ", ".join(handles) + ")")


def judge(snapshots: list[Snapshot], target: Target, when: float | None) -> list[Verdict]:
    """A verdict per registration of each record (one per deleted record), in the hub's order."""
    verdicts: list[Verdict] = []
    for snapshot in snapshots:
        if snapshot.deleted:
            steps = [_exists(snapshot)]
            if target.handles:
                steps.append(_handle(None, snapshot, target.handles))
            verdicts.append(Verdict(snapshot, None, tuple(steps)))
            continue
        for reg in snapshot.registrations():
            if target.handles:
                steps = [
                    _handle(reg, snapshot, target.handles),
                    _format(snapshot, reg, target.format),
                ]
            else:
                steps = [
                    _exists(snapshot),
                    _expiry(snapshot, when),
                    _push_channel(snapshot),
                    _format(snapshot, reg, target.format),
                    Step(*tag_step(snapshot, reg, target.expression, target.format)),
                ]
            verdicts.append(Verdict(snapshot, reg, tuple(steps)))
    return verdicts
