"""Send rules: the tag expression of `ServiceBusNotification-Tags` within the service's limits."""

from __future__ import annotations

from collections.abc import Iterator

from proxy.model import Op
from proxy.rules.context import Ctx
from proxy.rules.findings import Breach
from proxy.rules.registry import rule
from proxy.tagexpr import InvalidTagExpression, parse_tag_expression

TAGGED_SENDS = frozenset({Op.SEND, Op.SCHEDULE_SEND})


def _has_tags(ctx: Ctx) -> bool:
    value = ctx.header("ServiceBusNotification-Tags")
    return value is not None and bool(value.strip())


@rule(
    "send.tag-expression",
    severity="error",
    spec="A single tag, or a boolean expression over tags using `&&`, `||`, `!` and parentheses, "
    "e.g. `(follows_RedSox || follows_Cardinals) && location_Boston`. Limits: at most 20 tags "
    "if the expression uses only `||`; otherwise at most 6.",
    source="spec/nh-rest-api.md §9.5",
    expected="a tag expression the service accepts: valid tags, balanced parentheses, at most "
    "20 tags with only ||, otherwise 6",
    applies=_has_tags,
    ops=TAGGED_SENDS,
)
def _tag_expression(ctx: Ctx) -> Iterator[Breach]:
    text = ctx.header("ServiceBusNotification-Tags") or ""
    try:
        parse_tag_expression(text)
    except InvalidTagExpression as exc:
        shown = text if len(text) <= 200 else text[:200] + "…"
        yield Breach(actual=f"{exc} ({shown!r})", pointer="header:ServiceBusNotification-Tags")


STRINGIFIED = frozenset({"undefined", "null", "none"})


@rule(
    "send.tags-undefined",
    severity="warning",
    spec="Absent header ⇒ broadcast.",
    source="spec/nh-rest-api.md §9.5",
    expected="no ServiceBusNotification-Tags header for a broadcast, not a missing value "
    "written as text (undefined, null)",
    applies=_has_tags,
    ops=TAGGED_SENDS,
)
def _tags_undefined(ctx: Ctx) -> Iterator[Breach]:
    # JS SDK 2.1.0 sets the header from `options.tagExpression` whenever `enableTestSend` is
    # given, so a broadcast debug send carries `undefined` and reaches only that tag.
    text = (ctx.header("ServiceBusNotification-Tags") or "").strip()
    if text.lower() in STRINGIFIED:
        yield Breach(
            actual=f"ServiceBusNotification-Tags: {text} (reaches only registrations tagged "
            f"{text!r})",
            pointer="header:ServiceBusNotification-Tags",
        )
