"""Tag expressions of `ServiceBusNotification-Tags`: parse, check the documented limits, match."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

__all__ = ["InvalidTagExpression", "parse_tag_expression"]

Matcher = Callable[[Collection[str]], bool]

_TOKEN = re.compile(r"\s*(&&|\|\||!|\(|\)|[^\s&|!()]+)")
_TAG = re.compile(r"^(\$(InstallationId|UserId):\{[-_@#.:=\w]+\}|[-_@#.:\w]+)$", re.IGNORECASE)


class InvalidTagExpression(ValueError):
    """The expression is malformed or over the limits; the message is the 400 detail."""


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

    def parse_or(self) -> Matcher:
        parts = [self.parse_and()]
        while self.peek() == "||":
            self.operators.add(self._take())
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else (lambda tags: any(p(tags) for p in parts))

    def parse_and(self) -> Matcher:
        parts = [self.parse_not()]
        while self.peek() == "&&":
            self.operators.add(self._take())
            parts.append(self.parse_not())
        return parts[0] if len(parts) == 1 else (lambda tags: all(p(tags) for p in parts))

    def parse_not(self) -> Matcher:
        token = self._take()
        if token == "!":
            self.operators.add(token)
            inner = self.parse_not()
            return lambda tags: not inner(tags)
        if token == "(":
            inner = self.parse_or()
            if self._take() != ")":
                raise InvalidTagExpression("The tag expression has an unclosed parenthesis")
            return inner
        if not _TAG.match(token) or len(token) > 120:
            raise InvalidTagExpression(f"The tag '{token}' is not a valid tag")
        self.tags.append(token)
        wanted = token.lower()
        return lambda tags: any(t.lower() == wanted for t in tags)


def parse_tag_expression(text: str) -> Matcher:
    """A predicate over a registration's tags; limits: 20 tags with only `||`, else 6."""
    parser = _Parser(text)
    matcher = parser.parse_or()
    if parser.peek() is not None:
        raise InvalidTagExpression(f"The tag expression '{text}' is invalid")
    limit = 20 if parser.operators <= {"||"} else 6
    if len(parser.tags) > limit:
        raise InvalidTagExpression(
            f"The tag expression has {len(parser.tags)} tags; at most {limit} are allowed"
        )
    return matcher
