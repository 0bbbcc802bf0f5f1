"""The tag step of a verdict in words: which part of the expression is false, and why.

Beyond the expression itself it names two causes users miss: a tag the app sent that the
hub silently dropped (an optional `<Tags>` out of DataContract order, spec §4.2), and a
template send aimed at a template name the installation does not have (each template
carries its own name as a tag, spec §7.4).
"""

from __future__ import annotations

from proxy.tagexpr import Part, Tag, TagExpression
from proxy.targets.state import Registered, Snapshot

__all__ = ["tag_step"]

StepParts = tuple[str, bool, str]
"""(check, ok, detail): the fields of a `reach.Step`."""


def _quoted(tags: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"'{t}'" for t in tags)


def _part(part: Part) -> str:
    bits = []
    if part.missing:
        bits.append(f"missing {_quoted(part.missing)}")
    if part.present:
        bits.append(f"has {_quoted(part.present)}, which a ! excludes")
    return f"`{part.text}` is false ({'; '.join(bits)})"


def _hints(snapshot: Snapshot, reg: Registered, missing: list[str], fmt: str | None) -> list[str]:
    hints: list[str] = []
    dropped = {t.lower() for t in snapshot.dropped}
    lost = [t for t in missing if t.lower() in dropped]
    if lost:
        hints.append(
            f"{_quoted(lost)} was sent by exchange {snapshot.exchange_id} but the hub did not "
            "keep it (an optional element out of DataContract order is silently dropped)"
        )
    device = snapshot.device
    if fmt != "template" or device is None or snapshot.kind != "installation" or not reg.template:
        return hints
    names = [t.name for t in device.templates if t.name]
    everywhere = {t.lower() for r in snapshot.registrations() for t in r.tags}
    for tag in missing:
        other = next((n for n in names if n.lower() == tag.lower()), None)
        if other is not None:
            hints.append(
                f"'{tag}' names this installation's template '{other}', and only that "
                f"template carries it (this is template '{reg.template_name}')"
            )
        elif tag.lower() not in everywhere and names:
            hints.append(
                f"no template named '{tag}' on this installation (templates: {_quoted(names)})"
            )
    return hints


def tag_step(
    snapshot: Snapshot, reg: Registered, expression: TagExpression | None, fmt: str | None
) -> StepParts:
    """Whether the registration's tags satisfy the expression, in words."""
    if expression is None:
        return ("tags", True, "broadcast: no tag expression")
    value, parts = expression.explain(reg.tags)
    if value:
        has = [t for part in parts for t in part.present]
        lacks = [t for part in parts for t in part.missing]
        because = []
        if has:
            because.append(f"has {_quoted(has)}")
        if lacks:
            because.append(f"lacks {_quoted(lacks)}")
        return ("tags", True, f"`{expression.text}` is true ({'; '.join(because)})")
    missing = [t for part in parts for t in part.missing]
    if isinstance(expression.root, Tag):
        detail = f"tag missing: '{expression.root.name}'"
    else:
        clauses = "; ".join(_part(part) for part in parts)
        detail = f"expression `{expression.text}` is false: {clauses}"
    hints = _hints(snapshot, reg, missing, fmt)
    if hints:
        detail += " — " + "; ".join(hints)
    return ("tags", False, detail)
