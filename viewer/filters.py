"""List filters from a URL: the `f=` expression, `q=` search words and the one-key parameters.

Everything a URL can say folds into one filter expression (`viewer.filterlang`): the page
shows it as text, links carry it as `f=`, and `?platform=apns&q=vip` (older links, the JSON
API) means `platform:apns and vip`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from viewer import filterlang
from viewer.filterlang import (
    SEVERITIES,
    STATUS_CLASSES,
    FilterError,
    Node,
    conjoin,
    make_atom,
    parse_time,
)
from viewer.search import terms

__all__ = ["SEVERITIES", "STATUS_CLASSES", "FilterError", "Filters", "parse", "parse_time"]

MAX_LIMIT = 500
ONE_KEY = ("session", "operation", "method", "status", "platform", "tag", "registration_id",
           "installation_id", "handle", "findings", "since", "until", "instance")  # fmt: skip
"""Query parameters that each set one term (as in links from before the filter language)."""


@dataclass(frozen=True, slots=True)
class Filters:
    """The list's filter: one expression (None: everything)."""

    node: Node | None = None

    @property
    def text(self) -> str:
        return filterlang.text(self.node)

    def query(self, **extra: str | None) -> str:
        """This filter as a URL query string, with `extra` parameters (empty ones left out)."""
        pairs = [("f", self.text), *extra.items()]
        return urlencode([(k, v) for k, v in pairs if v not in (None, "")])

    def chips(self) -> list[tuple[str, str]]:
        """(term text, the query without that term) for every top-level term."""
        parts = filterlang.top_terms(self.node)
        out = []
        for i, part in enumerate(parts):
            rest = Filters(conjoin([p for j, p in enumerate(parts) if j != i]))
            out.append((filterlang.text(part), rest.query()))
        return out

    def searched(self) -> list[str]:
        """Texts searched for (not under `not`), to highlight on the detail page."""
        return [a.value for a in _positive_atoms(self.node) if a.key in (
            "text", "url", "header", "body")]  # fmt: skip

    def active(self) -> list[tuple[str, str]]:
        """The top-level terms as (key, value); a combined term as ("expr", its text)."""
        return [
            (t.key, t.value) if isinstance(t, filterlang.Atom) else ("expr", filterlang.text(t))
            for t in filterlang.top_terms(self.node)
        ]


def _positive_atoms(node: Node | None) -> list[filterlang.Atom]:
    if node is None or isinstance(node, filterlang.Not):
        return []
    if isinstance(node, filterlang.Atom):
        return [node]
    return [a for c in node.children for a in _positive_atoms(c)]


def parse(query: Mapping[str, str]) -> Filters:
    """Filters from a URL query; blank values mean 'no filter'."""
    nodes: list[Node | None] = []
    for name in ONE_KEY:
        raw = query.get(name, "").strip()
        if raw:
            nodes.append(make_atom(name, raw))
    nodes.append(filterlang.parse(query.get("f", "")))
    nodes += [make_atom(t.scope, t.text) for t in terms(query.get("q", ""))]
    return Filters(conjoin(nodes))


def raw_text(query: Mapping[str, str]) -> str:
    """What the URL asked for as filter text, unchecked (to show again when it is wrong)."""
    parts = [f"{name}:{query[name].strip()}" for name in ONE_KEY if query.get(name, "").strip()]
    parts += [query.get("f", "").strip(), query.get("q", "").strip()]
    return " and ".join(p for p in parts if p)


def parse_limit(value: str | None, default: int = 50) -> int:
    if not value:
        return default
    if not value.isdigit() or not 0 < int(value) <= MAX_LIMIT:
        raise FilterError(f"limit: expected 1 to {MAX_LIMIT}")
    return int(value)


def parse_cursor(value: str | None) -> tuple[float, str] | None:
    """A keyset cursor `STARTED_AT~ID` (the last row of the previous page)."""
    if not value:
        return None
    started, sep, ident = value.partition("~")
    try:
        if sep and ident:
            return float(started), ident
    except ValueError:
        pass
    raise FilterError("cursor: not a cursor from a previous page")


def make_cursor(started_at: float, ident: str) -> str:
    return f"{started_at!r}~{ident}"
