"""The list's filter language: `status:4xx and platform:apns and not rule:response.*`.

Terms are `key:value` (a value with spaces in double quotes) or bare words, which search
URL, headers and bodies. `and` (or nothing), `or`, `not` (or `!`), and parentheses
combine them; `and` binds tighter than `or`. Keys, values and words are checked here, so
a bad filter is answered with a message naming the term, never a SQL error. `text()`
turns a parsed filter back into the canonical text the page shows and links carry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

SEVERITIES = ("error", "warning", "note")
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx", "failed")

ALIASES = {
    "operation": "op", "registration_id": "reg", "installation_id": "inst",
    "findings": "severity", "q": "text", "headers": "header", "code": "code",
    "error": "code", "s": "status", "m": "method",
}  # fmt: skip
KEYS = {
    "status": "2xx, 4xx, 404, 400-499, >=500 or failed",
    "method": "GET, PUT, POST, PATCH, DELETE",
    "op": "an operation, e.g. read_registration (* matches any run)",
    "platform": "apns, fcmv1, wns, …",
    "tag": "a tag, e.g. user:42 (user:* for a prefix)",
    "handle": "a device handle or its first characters",
    "reg": "a registration id",
    "inst": "an installation id",
    "session": "a session name",
    "instance": "the proxy that stored it: host/pid/listen address (* matches any run)",
    "hub": "a hub name",
    "code": "a Notification Hubs error code from an <Error> body, e.g. 404",
    "rule": "a rule id, e.g. common.api-version (response.* for a family)",
    "severity": "error, warning or note: a finding this bad or worse",
    "since": "a time, ISO 8601 (UTC unless it says) or Unix seconds",
    "until": "a time, as since (exclusive)",
    "duration": "milliseconds: >100, <5, 10-50",
    "url": "text in the URL",
    "header": "text in a header (Name: value)",
    "body": "text in a body",
    "text": "text anywhere: URL, headers, bodies (what a bare word means)",
}
"""Every key and what its value means (shown in the page's help)."""

PYTHON_KEYS = frozenset({"rule", "severity"})
"""Keys judged from findings, which are computed on read and not in SQL."""


class FilterError(ValueError):
    """A filter that cannot be understood; the message names the term."""


@dataclass(frozen=True, slots=True)
class Atom:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


Node = Atom | Not | And | Or

_TOKEN = re.compile(
    r'\s*(?:(?P<open>\()|(?P<close>\))|(?P<bang>!)'
    r'|(?P<term>(?:[A-Za-z_]+:)?(?:"(?:[^"]|"")*"|[^\s()"]+)))'
)


def _tokens(text: str) -> list[str]:
    out, at = [], 0
    text = text.strip()
    while at < len(text):
        found = _TOKEN.match(text, at)
        if found is None or found.end() == at:
            raise FilterError(f"cannot read the filter from {text[at:at + 20]!r}")
        out.append(found.group().strip())
        at = found.end()
        while at < len(text) and text[at].isspace():
            at += 1
    return out


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def expr(self) -> Node:
        parts = [self.conj()]
        while (self.peek() or "").lower() in ("or", "|"):
            self.take()
            parts.append(self.conj())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conj(self) -> Node:
        parts = [self.unary()]
        while (token := self.peek()) is not None and token != ")" and token.lower() not in (
            "or", "|"
        ):
            if token.lower() in ("and", "&"):
                self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self) -> Node:
        token = self.peek()
        if token is None:
            raise FilterError("the filter ends where a term was expected")
        if token.lower() == "not" or token == "!":
            self.take()
            return Not(self.unary())
        if token == "(":
            self.take()
            inner = self.expr()
            if self.peek() != ")":
                raise FilterError("a '(' is not closed")
            self.take()
            return inner
        if token == ")" or token.lower() in ("and", "or", "&", "|"):
            raise FilterError(f"a term was expected before {token!r}")
        return atom_of(self.take())


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('""', '"')
    return value


def atom_of(token: str) -> Atom:
    """`key:value` or a bare word (a text search)."""
    key, sep, value = token.partition(":")
    if sep and re.fullmatch(r"[A-Za-z_]+", key) and not token.startswith('"'):
        name = ALIASES.get(key.lower(), key.lower())
        if name not in KEYS:
            raise FilterError(
                f"unknown name {key!r} (one of {', '.join(KEYS)}); to search for text"
                f' with a colon, put it in quotes: "{token}"'
            )
        return make_atom(name, _unquote(value))
    return make_atom("text", _unquote(token))


def make_atom(key: str, value: str) -> Atom:
    """An atom with its value checked (and normalised where a spelling does not matter)."""
    key = ALIASES.get(key, key)
    if key not in KEYS:
        raise FilterError(f"unknown filter key {key!r}; known: {', '.join(KEYS)}")
    value = value.strip()
    if not value:
        raise FilterError(f"{key}: needs a value ({KEYS[key]})")
    if key == "status":
        status_range(value)
    elif key == "method":
        if not value.isalpha():
            raise FilterError(f"method: expected a method name, not {value!r}")
        value = value.upper()
    elif key == "severity":
        value = value.lower()
        if value not in SEVERITIES:
            raise FilterError(f"severity: expected one of {', '.join(SEVERITIES)}")
    elif key in ("since", "until"):
        parse_time(value, key)
    elif key == "duration":
        number_range(value, key)
    elif key == "platform":
        value = value.lower()
    return Atom(key, value)


def parse(text: str) -> Node | None:
    """A filter expression (None when blank)."""
    tokens = _tokens(text)
    if not tokens:
        return None
    parser = _Parser(tokens)
    node = parser.expr()
    if parser.peek() is not None:
        raise FilterError(f"unexpected {parser.peek()!r} in the filter")
    return node


def conjoin(nodes: list[Node | None]) -> Node | None:
    """AND of the given filters, flattened (None when there are none)."""
    parts: list[Node] = []
    for node in nodes:
        if isinstance(node, And):
            parts += node.children
        elif node is not None:
            parts.append(node)
    unique = list(dict.fromkeys(parts))
    if not unique:
        return None
    return unique[0] if len(unique) == 1 else And(tuple(unique))


def _quote(value: str) -> str:
    if value and re.fullmatch(r'[^\s()"!]+', value) and value.lower() not in (
        "and", "or", "not"
    ):
        return value
    return '"' + value.replace('"', '""') + '"'


def text(node: Node | None) -> str:
    """The canonical text of a filter; parsing it gives the same filter back."""
    if node is None:
        return ""
    if isinstance(node, Atom):
        if node.key == "text":
            value = node.value
            return _quote(value) if ":" not in value else '"' + value.replace('"', '""') + '"'
        return f"{node.key}:{_quote(node.value)}"
    if isinstance(node, Not):
        inner = text(node.child)
        return f"not ({inner})" if isinstance(node.child, And | Or) else f"not {inner}"
    if isinstance(node, And):
        return " and ".join(
            f"({text(c)})" if isinstance(c, Or) else text(c) for c in node.children
        )
    return " or ".join(text(c) for c in node.children)


def atoms(node: Node | None) -> list[Atom]:
    if node is None:
        return []
    if isinstance(node, Atom):
        return [node]
    if isinstance(node, Not):
        return atoms(node.child)
    return [a for c in node.children for a in atoms(c)]


def top_terms(node: Node | None) -> list[Node]:
    """The parts ANDed at the top (each can be removed on its own, e.g. from a chip)."""
    if node is None:
        return []
    return list(node.children) if isinstance(node, And) else [node]


def status_range(value: str) -> tuple[int, int] | None:
    """`[lo, hi]` inclusive for a status value; None for `failed` (no answer)."""
    value = value.strip().lower()
    if value == "failed":
        return None
    if re.fullmatch(r"[1-5]xx", value):
        base = int(value[0]) * 100
        return base, base + 99
    try:
        return number_range(value, "status")
    except FilterError:
        raise FilterError(
            f"status: expected one of {', '.join(STATUS_CLASSES)}, a code or a range"
            f" (400-499, >=500), not {value!r}"
        ) from None


def number_range(value: str, name: str) -> tuple[int, int]:
    """`N`, `A-B` / `A..B`, `>N`, `>=N`, `<N`, `<=N` as an inclusive range."""
    found = re.fullmatch(r"\s*(>=|<=|>|<)?\s*(\d+)\s*(?:(?:-|\.\.)\s*(\d+))?\s*", value)
    if found is None or (found.group(1) and found.group(3)):
        raise FilterError(f"{name}: expected a number, a range A-B, or >N / <N")
    op, low, high = found.group(1), int(found.group(2)), found.group(3)
    if high is not None:
        return low, int(high)
    top = 10**9
    ranges = {None: (low, low), ">": (low + 1, top), ">=": (low, top), "<": (0, low - 1),
              "<=": (0, low)}  # fmt: skip
    return ranges[op]


def parse_time(value: str, name: str) -> float:
    """Unix seconds, or an ISO 8601 date/time (UTC unless it says otherwise)."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(f"{name}: expected Unix seconds or an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
