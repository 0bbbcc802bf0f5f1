"""Tag rules for registrations and installations: grammar, length and count."""

from __future__ import annotations

import re
from collections.abc import Iterator

from proxy.model import Device, Op
from proxy.rules.context import REGISTRATION_WRITES, Ctx
from proxy.rules.findings import Breach
from proxy.rules.registry import rule

SOURCE = "spec/nh-rest-api.md §4.5"
TAG = re.compile(r"^(\$(InstallationId|UserId):\{[-_@#.:=\w]+\}|[-_@#.:\w]+)$", re.IGNORECASE)
MAX_LENGTH = 120
MAX_COUNT = 60
OPS = REGISTRATION_WRITES | {Op.CREATE_OR_OVERWRITE_INSTALLATION}


def _writes_devices(ctx: Ctx) -> bool:
    return not ctx.truncated and (
        ctx.op in REGISTRATION_WRITES or ctx.op is Op.CREATE_OR_OVERWRITE_INSTALLATION
    )


def _tag_lists(device: Device) -> Iterator[tuple[str, tuple[str, ...]]]:
    prefix = "/tags" if device.kind == "installation" else "Tags"
    yield prefix, device.tags
    if device.kind == "installation":
        for template in device.templates:
            yield f"/templates/{template.name}/tags", template.tags


@rule(
    "tags.grammar",
    severity="error",
    spec="Grammar ([DOC] routing page; [.NET] regex): 1–120 characters from alphanumerics and "
    "`_ @ # . : -`.",
    source=SOURCE,
    expected="tags of letters, digits and _ @ # . : - (or $InstallationId:{…} / $UserId:{…})",
    applies=_writes_devices,
    ops=OPS,
)
def _grammar(ctx: Ctx) -> Iterator[Breach]:
    for device in ctx.request_devices:
        for pointer, tags in _tag_lists(device):
            for tag in tags:
                if tag and not TAG.match(tag):
                    yield Breach(actual=f"tag {tag[:80]!r}", pointer=pointer)


@rule(
    "tags.length",
    severity="error",
    spec="tag length | ≤ 120 chars",
    source="spec/nh-rest-api.md §13",
    expected=f"tags of at most {MAX_LENGTH} characters",
    applies=_writes_devices,
    ops=OPS,
)
def _length(ctx: Ctx) -> Iterator[Breach]:
    for device in ctx.request_devices:
        for pointer, tags in _tag_lists(device):
            for tag in tags:
                if len(tag) > MAX_LENGTH:
                    yield Breach(actual=f"{len(tag)} characters: {tag[:40]!r}…", pointer=pointer)


@rule(
    "tags.count",
    severity="warning",
    spec="Per-registration/installation limit: 60 tags ([DOC] `includes/notification-hub-"
    "limits.md`, registration-management and routing pages). Contested",
    source=SOURCE,
    expected=f"at most {MAX_COUNT} tags (documented; users report more working)",
    applies=_writes_devices,
    ops=OPS,
)
def _count(ctx: Ctx) -> Iterator[Breach]:
    for device in ctx.request_devices:
        if len(device.tags) > MAX_COUNT:
            yield Breach(actual=f"{len(device.tags)} tags", pointer="Tags")
