"""Rules of the installation PATCH: a JSON Patch array with the ops and paths NH supports."""

from __future__ import annotations

import re
from collections.abc import Iterator

from proxy.model import Op
from proxy.rules.context import Ctx
from proxy.rules.findings import Breach
from proxy.rules.registry import rule

SPEC = "spec/nh-rest-api.md §8"
BODY = 'Body: `[ {"op": "add"|"remove"|"replace", "path": "/…", "value": "…"} ]`.'
OPS = ("add", "remove", "replace")
_TEMPLATE = r"/templates/[^/]+(/(body|headers|expiry|tags))?"
PATH = re.compile(
    rf"^(/pushChannel|/userId|/tags(/[^/]+)?|{_TEMPLATE}"
    rf"|/secondaryTiles/[^/]+(/(pushChannel|tags(/[^/]+)?|templates(/[^/]+(/[^/]+)?)?))?)$",
    re.IGNORECASE,
)


def _patches(ctx: Ctx) -> bool:
    return ctx.op is Op.PATCH_INSTALLATION and not ctx.truncated


@rule(
    "installation.patch-body",
    severity="error",
    spec=BODY,
    source=SPEC,
    expected="a JSON array of operations",
    applies=_patches,
    ops={Op.PATCH_INSTALLATION},
)
def _body(ctx: Ctx) -> Iterator[Breach]:
    value = ctx.request_json
    if not isinstance(value, list) or not value:
        why = ctx.decoded.request.decode_error or f"{ctx.decoded.request.format} body"
        yield Breach(actual=why if not isinstance(value, list) else "an empty array", pointer="")


@rule(
    "installation.patch-op",
    severity="error",
    spec="Only these three ops; `value` is always a **string** in the SDK models … `test`, "
    "`move`, `copy` are not supported.",
    source=SPEC,
    expected="op add, remove or replace",
    applies=_patches,
    ops={Op.PATCH_INSTALLATION},
)
def _op(ctx: Ctx) -> Iterator[Breach]:
    for index, item in enumerate(ctx.decoded.request.patch):
        if item.op.lower() not in OPS:
            yield Breach(actual=f"op {item.op!r}", pointer=f"/{index}/op")


@rule(
    "installation.patch-path",
    severity="warning",
    spec="Paths and semantics: … `/pushChannel` … `/userId` … `/tags` … `/templates/{name}` … "
    "`/secondaryTiles/{tileId}/pushChannel`, `/tags`, `/templates/…` … or `/tags/{tagValue}`",
    source=SPEC,
    expected="a path NH patches: /pushChannel, /userId, /tags[/{tag}], /templates/{name}[/…], "
    "/secondaryTiles/{id}/…",
    applies=_patches,
    ops={Op.PATCH_INSTALLATION},
)
def _path(ctx: Ctx) -> Iterator[Breach]:
    for index, item in enumerate(ctx.decoded.request.patch):
        if not PATH.match(item.path):
            yield Breach(actual=f"path {item.path!r}", pointer=f"/{index}/path")


@rule(
    "installation.patch-value",
    severity="error",
    spec=BODY,
    source=SPEC,
    expected="a value on every add and replace",
    applies=_patches,
    ops={Op.PATCH_INSTALLATION},
)
def _value(ctx: Ctx) -> Iterator[Breach]:
    for index, item in enumerate(ctx.decoded.request.patch):
        if item.op.lower() in ("add", "replace") and item.value is None:
            yield Breach(actual=f"{item.op} {item.path} without value", pointer=f"/{index}/value")
