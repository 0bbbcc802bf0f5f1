"""SQLite's SQL in PostgreSQL's words: what the readers write, run unchanged on a server.

`translate` turns SQLite's `?` and `:name` parameters into psycopg's `%s` and `%(name)s`,
`[name]` into `"name"`, doubles a literal `%`, and maps what differs in meaning: GLOB (a
regular expression, the pattern converted by `glob_regex`), `INSERT OR REPLACE|IGNORE`
(`ON CONFLICT`), `BEGIN IMMEDIATE`, `sqlite_master` and `pragma database_list`,
`char()`/`instr()`, scalar `min`/`max`, `cast(... as text|integer)`, `group_concat`,
a `coalesce` whose 0/1 default may be a truth value, and subqueries without an alias.
String literals pass untouched. Only the subset of SQL hubscope writes is covered; a test per rule.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from proxy.store.pg.keys import CONFLICT_KEYS

_TOKEN = re.compile(
    r"""('(?:[^']|'')*')"""  # a string literal: copied as it is (but % doubled)
    r"""|("(?:[^"]|"")*")"""  # a quoted name
    r"|(::)"  # a PostgreSQL cast
    r"|\b(glob)\s+(?=[?:])"  # SQLite's GLOB: a regular expression match on PostgreSQL
    r"|(\?)"  # a positional parameter
    r"|:([A-Za-z_][A-Za-z0-9_]*)"  # a named parameter
    r"|\[([A-Za-z_][A-Za-z0-9_ ]*)\]"  # an SQLite-quoted name
    r"|\b(sqlite_master)\b"  # the catalogue: PostgreSQL's tables under SQLite's name
    r"|\b(char|instr|json_array)(?=\s*\()"  # SQLite's names of chr(), strpos(), …
    r"|(%)"
)
_CATALOGUE = (
    "(select table_name as name, 'table' as type from information_schema.tables "
    "where table_schema = current_schema()) as sqlite_master"
)


@dataclass(frozen=True, slots=True)
class Translated:
    sql: str
    globs: frozenset[int | str] = frozenset()
    """Parameters (positions or names) that are GLOB patterns, to be sent as regexes."""


def translate(sql: str) -> str:
    """SQLite-style SQL with parameters as psycopg's (always passed parameters)."""
    return translated(sql).sql


_DATABASE_LIST = re.compile(r"^\s*pragma\s+database_list\s*;?\s*$", re.I)
_BEGIN = re.compile(r"^\s*begin\s+(immediate|deferred|exclusive)\s*;?\s*$", re.I)
_INSERT_OR = re.compile(
    r"^\s*insert\s+or\s+(replace|ignore)\s+into\s+(\[[^\]]+\]|\"[^\"]+\"|\w+)\s*\(([^)]*)\)(.*)$",
    re.I | re.S,
)


def _conflicts(sql: str) -> str:
    """SQLite's `BEGIN IMMEDIATE` and `INSERT OR REPLACE|IGNORE` in PostgreSQL's words."""
    if _BEGIN.match(sql):
        return "begin"
    if _DATABASE_LIST.match(sql):  # (seq, name, file): the database's name stands for the file
        return "select 0, 'main', current_database()"
    found = _INSERT_OR.match(sql)
    if found is None:
        return sql
    action, table, columns, rest = found.groups()
    name = table.strip('[]"')
    keys = CONFLICT_KEYS.get(name)
    if keys is None:
        raise ValueError(f"no conflict key known for table {name!r}")
    names = [c.strip().strip('[]"') for c in columns.split(",")]
    others = [c for c in names if c not in {k.strip() for k in keys.split(",")}]
    if action.lower() == "ignore" or not others:
        tail = f"on conflict ({keys}) do nothing"
    else:
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in others)
        tail = f"on conflict ({keys}) do update set {updates}"
    return f"insert into {table} ({columns}){rest.rstrip().rstrip(';')} {tail}"


@functools.lru_cache(maxsize=512)
def translated(sql: str) -> Translated:
    sql = _conflicts(sql)
    globs: set[int | str] = set()
    position = 0
    after_glob = False

    def swap(match: re.Match[str]) -> str:
        nonlocal position, after_glob
        literal, quoted, cast, glob, positional, named, bracketed, catalogue, function, percent = (
            match.groups()
        )
        if literal is not None:
            return literal.replace("%", "%%")
        if quoted is not None or cast is not None:
            return match.group(0)
        if glob is not None:
            after_glob = True
            return "~ "
        if positional is not None or named is not None:
            key: int | str = position if positional is not None else named
            if after_glob:
                globs.add(key)
                after_glob = False
            if positional is not None:
                position += 1
                return "%s"
            return f"%({named})s"
        if bracketed is not None:
            return '"' + bracketed.replace('"', '""') + '"'
        if catalogue is not None:
            return _CATALOGUE
        if function is not None:
            return _FUNCTIONS[function.lower()]
        assert percent is not None
        return "%%"

    return Translated(_casts(_TOKEN.sub(swap, sql)), frozenset(globs))


_FUNCTIONS = {"char": "chr", "instr": "strpos", "json_array": "json_build_array"}
_CAST = re.compile(r"cast\s*\(", re.I)
_AS_TEXT = re.compile(r"\s+as\s+text\s*$", re.I)
_AS_INTEGER = re.compile(r"\s+as\s+integer\s*$", re.I)
_MIN_MAX = re.compile(r"(min|max)\s*\(", re.I)
_GROUP_CONCAT = re.compile(r"group_concat\s*\(", re.I)
_DISTINCT = re.compile(r"\s*distinct\s+", re.I)
_GROUP_ARRAY = re.compile(r"json_group_array\s*\(", re.I)
_CONTAINS = re.compile(r"strpos\s*\(", re.I)
_POSITIVE = re.compile(r"\s*>\s*0\b")
_FROM_SUBQUERY = re.compile(r"from\s*\((?=\s*select\b)", re.I)
_COALESCE = re.compile(r"coalesce\s*\(", re.I)
_ALIAS = re.compile(
    r"\s*(?:as\b|(?!(?:where|order|group|limit|union|join|left|inner|cross|on|having|offset)\b)[a-z_])",
    re.I,
)


def _casts(sql: str) -> str:
    """What SQLite's SQL means, where PostgreSQL's grammar or types differ:

    - `cast(x as text)` → `hubscope_text(x)`: a body (bytea) read as its UTF-8 text, as
      SQLite reads a BLOB cast to text, rather than PostgreSQL's hex form;
    - a subquery in FROM gets the alias PostgreSQL 15 requires;
    - `coalesce(x, 0)` and `coalesce(x, 1)`: SQLite has no booleans, its tests are 0 or 1,
      so a 0/1 default may stand for false/true (the viewer's `coalesce((term), 0)`) or
      for a number (`coalesce(sum(n), 0)`). Nothing here guesses which: the default is
      written as the untyped literal `'0'`/`'1'`, which PostgreSQL gives the type of the
      other arguments (its rule for COALESCE), so it reads `false`/`true` beside a test,
      `0`/`1` beside a number;
    - `instr(a, b) > 0` → `a LIKE '%b%'` (b's wildcards escaped): pg_trgm's index serves it.
    """
    out: list[str] = []
    i = 0
    while i < len(sql):
        char = sql[i]
        if char in "'\"":
            end = sql.find(char, i + 1)
            end = len(sql) - 1 if end == -1 else end
            out.append(sql[i : end + 1])
            i = end + 1
            continue
        at_word = i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] == "_")
        found = _CAST.match(sql, i) if at_word else None
        if found:
            close = _closing(sql, found.end())
            inner = sql[found.end() : close]
            as_text = _AS_TEXT.search(inner)
            as_integer = _AS_INTEGER.search(inner)
            if as_text:
                out.append(f"hubscope_text({_casts(inner[: as_text.start()])})")
            elif as_integer:  # SQLite truncates toward zero; PostgreSQL would round
                out.append(f"cast(trunc({_casts(inner[: as_integer.start()])}) as integer)")
            else:
                out.append(f"{sql[i : found.end()]}{_casts(inner)})")
            i = close + 1
            continue
        found = _GROUP_CONCAT.match(sql, i) if at_word else None
        if found:  # SQLite's group_concat([distinct] x[, separator])
            close = _closing(sql, found.end())
            parts = [_casts(part) for part in _arguments(sql[found.end() : close])]
            separator = parts[1] if len(parts) > 1 else "','"
            distinct = _DISTINCT.match(parts[0])
            value = parts[0][distinct.end() :] if distinct else parts[0]
            out.append(f"string_agg({'distinct ' if distinct else ''}({value})::text, {separator})")
            i = close + 1
            continue
        found = _GROUP_ARRAY.match(sql, i) if at_word else None
        if found:  # SQLite's JSON text of a group; '[]' for none, as SQLite answers
            close = _closing(sql, found.end())
            out.append(f"coalesce(json_agg({_casts(sql[found.end() : close])})::text, '[]')")
            i = close + 1
            continue
        found = _CONTAINS.match(sql, i) if at_word else None
        if found:
            close = _closing(sql, found.end())
            positive = _POSITIVE.match(sql, close + 1)
            parts = [_casts(part) for part in _arguments(sql[found.end() : close])]
            if positive and len(parts) == 2:  # instr(a, b) > 0: a LIKE, which pg_trgm indexes
                out.append(f"({parts[0]}) like ('%%' || hubscope_like({parts[1].strip()}) || '%%')")
                i = positive.end()
                continue
            out.append(f"strpos({', '.join(parts)})")
            i = close + 1
            continue
        found = _MIN_MAX.match(sql, i) if at_word else None
        if found:
            close = _closing(sql, found.end())
            parts = [_casts(part) for part in _arguments(sql[found.end() : close])]
            name = found.group(1).lower()
            if len(parts) > 1:  # SQLite's scalar min(a, b) and max(a, b)
                name = {"min": "least", "max": "greatest"}[name]
            out.append(f"{name}({', '.join(parts)})")
            i = close + 1
            continue
        found = _FROM_SUBQUERY.match(sql, i) if at_word else None
        if found:
            close = _closing(sql, found.end())
            alias = "" if _ALIAS.match(sql, close + 1) else f" as _sub{len(out)}"
            out.append(f"{sql[i : found.end()]}{_casts(sql[found.end() : close])}){alias}")
            i = close + 1
            continue
        found = _COALESCE.match(sql, i) if at_word else None
        if found:
            close = _closing(sql, found.end())
            parts = [_casts(part) for part in _arguments(sql[found.end() : close])]
            if parts[-1].strip() in ("0", "1"):
                parts[-1] = f" '{parts[-1].strip()}'"
            out.append(f"coalesce({','.join(parts)})")
            i = close + 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _outside_quotes(text: str, start: int = 0) -> Iterator[tuple[int, str]]:
    """(index, character) of `text` from `start`, skipping quoted literals and names."""
    i = start
    while i < len(text):
        char = text[i]
        if char in "'\"":
            end = text.find(char, i + 1)
            i = len(text) if end == -1 else end + 1
            continue
        yield i, char
        i += 1


def _arguments(text: str) -> list[str]:
    """A call's arguments: `text` split at its top-level commas."""
    parts, depth, start = [], 0, 0
    for i, char in _outside_quotes(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _closing(sql: str, start: int) -> int:
    """The index of the parenthesis that closes the one opened just before `start`."""
    depth = 1
    for i, char in _outside_quotes(sql, start):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return i
    raise ValueError(f"unbalanced parentheses in {sql!r}")


def glob_regex(pattern: str) -> str:
    """A GLOB pattern (`*`, `?`, `[...]`, case-sensitive, whole string) as a regular expression."""
    out, i = ["^"], 0
    while i < len(pattern):
        char = pattern[i]
        end = pattern.find("]", i + 2) if char == "[" else -1
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif end != -1:
            inner = pattern[i + 1 : end]
            negated = inner.startswith("^")
            body = inner[1:] if negated else inner
            out.append("[" + ("^" if negated else "") + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out) + "$"
