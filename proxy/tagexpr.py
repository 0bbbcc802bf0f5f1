"""Tag expressions of `ServiceBusNotification-Tags`: parse, check the limits, match, explain.

One evaluator for the stand-in hub (which answers sends) and `hubscope targets` (which
predicts them), so the two cannot drift apart. Grammar and limits: spec §4.5, §9.5, §13 —
tags of 1–120 characters from letters, digits and `_ @ # . : -` (or `$InstallationId:{…}`,
`$UserId:{…}`), combined with `&&`, `||`, `!` and parentheses; at most 20 tags when the
expression uses only `||`, otherwise at most 6. Tags match case-insensitively (spec §4.5).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "MAX_TAGS",
    "MAX_TAGS_OR_ONLY",
    "And",
    "InvalidTagExpression",
    "Node",
    "Not",
    "Or",
    "Part",
    "Tag",
    "TagExpression",
    "parse_tag_expression",
]

MAX_TAGS_OR_ONLY = 20
MAX_TAGS = 6
MAX_TAG_LENGTH = 120

_TOKEN = re.compile(r"\s*(&&|\|\||!|\(|\)|[^\s&|!()]+)")
_TAG = re.compile(r"^(\$(InstallationId|UserId):\{[-_@#.:=\w]+\}|[-_@#.:\w]+)$", re.IGNORECASE)


class InvalidTagExpression(ValueError):
    """The expression is malformed or over the limits; the message is the 400 detail."""


@dataclass(frozen=True, slots=True)
class Tag:
    name: str


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]


Node = Tag | Not | And | Or


@dataclass(frozen=True, slots=True)
class Part:
    """A sub-expression that decided the value, and the tags that decided it."""

    text: str
    value: bool
    missing: tuple[str, ...]
    """Tags the part needed and the device lacks (or, when true, lacks as a `!` wanted)."""

    present: tuple[str, ...]
    """Tags the device has that decided the part (a `!tag` made false, or a tag made true)."""


def _evaluate(node: Node, tags: frozenset[str]) -> bool:
    """The value of one node for a device's tags, lower-cased."""
    if isinstance(node, Tag):
        return node.name.lower() in tags
    if isinstance(node, Not):
        return not _evaluate(node.operand, tags)
    if isinstance(node, And):
        return all(_evaluate(n, tags) for n in node.operands)
    return any(_evaluate(n, tags) for n in node.operands)


def _lowered(tags: Collection[str]) -> frozenset[str]:
    return frozenset(t.lower() for t in tags)


Causes = tuple[list[str], list[str]]
"""(tags absent that decided it, tags present that decided it)."""


def _why(node: Node, tags: frozenset[str]) -> Causes:
    """The tags that make `node` come out as it does (both lists in expression order)."""
    value = _evaluate(node, tags)
    if isinstance(node, Tag):
        return ([], [node.name]) if value else ([node.name], [])
    if isinstance(node, Not):
        return _why(node.operand, tags)
    deciding = [n for n in node.operands if _evaluate(n, tags) == value]
    chosen = deciding[:1] if isinstance(node, Or) and value else deciding  # one true `||` side
    missing: list[str] = []
    present: list[str] = []
    for child in chosen:
        child_missing, child_present = _why(child, tags)
        missing += [t for t in child_missing if t not in missing]
        present += [t for t in child_present if t not in present]
    return missing, present


def render(node: Node, parent: type | None = None) -> str:
    """Canonical text of a node, parenthesised only where precedence needs it."""
    if isinstance(node, Tag):
        return node.name
    if isinstance(node, Not):
        return "!" + render(node.operand, Not)
    joiner = " && " if isinstance(node, And) else " || "
    text = joiner.join(render(n, type(node)) for n in node.operands)
    needs = parent is Not or (parent is And and isinstance(node, Or))
    return f"({text})" if needs else text


@dataclass(frozen=True, slots=True)
class TagExpression:
    """A parsed expression; call it with a device's tags to match."""

    text: str
    root: Node
    tags: tuple[str, ...]
    """Every tag named, in order, repeats kept (the limits count them)."""

    operators: frozenset[str]

    def __call__(self, tags: Collection[str]) -> bool:
        return _evaluate(self.root, _lowered(tags))

    def explain(self, tags: Collection[str]) -> tuple[bool, tuple[Part, ...]]:
        """The value, and the parts that decided it: each false `&&` operand, else the whole."""
        return _explain(self.root, _lowered(tags))


@lru_cache(maxsize=4096)
def _explain(root: Node, tags: frozenset[str]) -> tuple[bool, tuple[Part, ...]]:
    """`TagExpression.explain`, cached: devices share tag sets and sends share expressions."""
    value = _evaluate(root, tags)
    parts, parent = [root], None
    if isinstance(root, And) and not value:
        parts, parent = [n for n in root.operands if not _evaluate(n, tags)], And
    out = []
    for node in parts:
        missing, present = _why(node, tags)
        out.append(
            Part(render(node, parent), _evaluate(node, tags), tuple(missing), tuple(present))
        )
    return value, tuple(out)


class _Parser:
    """Recursive descent: or := and ('||' and)*; and := not ('&&' not)*; not := '!' not | atom."""

    def __init__(self, text: str) -> None:
        self.tokens: list[str] = []
        pos = 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None:
                if text[pos:].strip():
                    raise InvalidTagExpression(f"The tag expression '{text}' is invalid")
                break
            self.tokens.append(match.group(1))
            pos = match.end()
        self.pos = 0
        self.tags: list[str] = []
        self.operators: set[str] = set()

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> str:
        token = self.peek()
        if token is None:
            raise InvalidTagExpression("The tag expression ends too early")
        self.pos += 1
        return token

    def parse_or(self) -> Node:
        parts = [self.parse_and()]
        while self.peek() == "||":
            self.operators.add(self._take())
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def parse_and(self) -> Node:
        parts = [self.parse_not()]
        while self.peek() == "&&":
            self.operators.add(self._take())
            parts.append(self.parse_not())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def parse_not(self) -> Node:
        token = self._take()
        if token == "!":
            self.operators.add(token)
            return Not(self.parse_not())
        if token == "(":
            inner = self.parse_or()
            if self._take() != ")":
                raise InvalidTagExpression("The tag expression has an unclosed parenthesis")
            return inner
        if not _TAG.match(token) or len(token) > MAX_TAG_LENGTH:
            raise InvalidTagExpression(f"The tag '{token}' is not a valid tag")
        self.tags.append(token)
        return Tag(token)


def parse_tag_expression(text: str) -> TagExpression:
    """Parse and check the limits: 20 tags with only `||`, else 6; raises InvalidTagExpression."""
    parser = _Parser(text)
    root = parser.parse_or()
    if parser.peek() is not None:
        raise InvalidTagExpression(f"The tag expression '{text}' is invalid")
    limit = MAX_TAGS_OR_ONLY if parser.operators <= {"||"} else MAX_TAGS
    if len(parser.tags) > limit:
        raise InvalidTagExpression(
            f"The tag expression has {len(parser.tags)} tags; at most {limit} are allowed"
        )
    return TagExpression(text, root, tuple(parser.tags), frozenset(parser.operators))
