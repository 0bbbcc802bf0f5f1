"""A parsed filter as SQL over `exchanges e`, and as a test of rows SQL cannot judge.

Each term becomes a per-row test (`probe`). A selective term at the top level may instead
*drive* the query: its few matching rows are listed through an index and sorted, rather
than the time index being walked and every row probed. `rule:` and `severity:` read the
stored findings (`proxy/store/findings.py`) of exchanges judged under the current rule
set; for any other exchange their SQL is NULL (unknown), which SQL's three-valued logic
carries through `not`, `and` and `or`. SQL keeps the rows whose filter is true or unknown,
and `Plan.keep` judges only the unknown ones on read, from their per-term columns and
their findings. A database judged throughout is filtered by SQL alone, without limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from proxy.rules import RANK
from viewer.filterlang import (
    PYTHON_KEYS,
    And,
    Atom,
    Node,
    Not,
    atoms,
    number_range,
    parse_time,
    status_range,
    top_terms,
)
from viewer.search import Term, candidates_sql, glob_escape

DRIVE_CAP = 5000
"""A term matching fewer rows than this drives the query."""

TOP = "\U0010ffff"
_IDS = (
    "(e.resource_id = :{n} or exists (select 1 from devices d"
    " where d.exchange_id = e.id and d.{c} = :{n}))"
)
_BY_ID = (
    "e.id in (select d.exchange_id from devices d where d.{c} = :{n}"
    " union all select x.id from exchanges x where x.resource_id = :{n})"
)


@dataclass(frozen=True, slots=True)
class TermSql:
    """One term: its per-row test, and optionally how to drive by it and count it."""

    probe: str
    params: dict[str, Any]
    drive: str | None = None
    count: str | None = None


def _glob_or_eq(column: str, name: str, value: str) -> str:
    return f"{column} glob :{name}" if "*" in value else f"{column} = :{name}"


_JUDGED = (
    "exists (select 1 from findings_judged j where j.exchange_id = e.id and j.ruleset = :rs)"
)


def findings_sql(atom: Atom, n: str) -> TermSql:
    """A `rule:` or `severity:` term over stored findings: NULL for an exchange not judged
    under the current rule set (`:rs`), which only judging it on read can decide."""
    if atom.key == "rule":
        test, params = _glob_or_eq("f.rule", n, atom.value), {n: atom.value}
    else:
        worse = [s for s in ("error", "warning", "note") if RANK[s] >= RANK[atom.value]]
        params = {f"{n}s{i}": s for i, s in enumerate(worse)}
        test = f"f.severity in ({', '.join(':' + name for name in params)})"
    found = f"exists (select 1 from findings f where f.exchange_id = e.id and {test})"
    return TermSql(f"case when {_JUDGED} then {found} end", params)


def term_sql(
    atom: Atom, n: str, *, indexed: bool = True, judged: bool = False
) -> TermSql | None:
    """The SQL of one term, parameters named `n…`; for findings terms, SQL over stored
    findings when the file has them (`judged`), else None (judged on read)."""
    key, v = atom.key, atom.value
    if key in PYTHON_KEYS:
        return findings_sql(atom, n) if judged else None
    if key == "status":
        bounds = status_range(v)
        if bounds is None:
            return TermSql("e.status is null", {}, "e.status is null",
                           "select 1 from exchanges where status is null")  # fmt: skip
        params: dict[str, Any] = {f"{n}lo": bounds[0], f"{n}hi": bounds[1]}
        between = f"between :{n}lo and :{n}hi"
        return TermSql(f"+e.status {between}", params, f"e.status {between}",
                       f"select 1 from exchanges where status {between}")  # fmt: skip
    if key in ("method", "hub"):
        return TermSql(f"e.{key} = :{n}", {n: v})
    if key in ("op", "session", "instance"):
        column = {"op": "e.operation", "session": "e.session", "instance": "e.instance"}[key]
        return TermSql(_glob_or_eq(column, n, v), {n: v})
    if key == "code":
        return TermSql(f"+e.error_code = :{n}", {n: v}, f"e.error_code = :{n}",
                       f"select 1 from exchanges where error_code = :{n}")  # fmt: skip
    if key == "platform":
        return TermSql(
            f"exists (select 1 from devices d where d.exchange_id = e.id and d.platform = :{n})",
            {n: v}, f"e.id in (select exchange_id from devices where platform = :{n})",
            f"select 1 from devices where platform = :{n}",
        )  # fmt: skip
    if key == "tag":
        return _tag(v, n)
    if key == "handle":
        params = {f"{n}lo": v, f"{n}hi": v + TOP}
        where = f"handle >= :{n}lo and handle < :{n}hi"
        return TermSql(
            f"exists (select 1 from devices d where d.exchange_id = e.id and d.{where})",
            params, f"e.id in (select exchange_id from devices where {where})",
            f"select 1 from devices where {where}",
        )  # fmt: skip
    if key in ("reg", "inst"):
        column = "registration_id" if key == "reg" else "installation_id"
        return TermSql(_IDS.format(c=column, n=n), {n: v}, _BY_ID.format(c=column, n=n),
                       f"select 1 from devices where {column} = :{n}")  # fmt: skip
    if key in ("since", "until"):
        op = ">=" if key == "since" else "<"
        return TermSql(f"e.started_at {op} :{n}", {n: parse_time(v, key)})
    if key == "duration":
        lo, hi = number_range(v, key)
        return TermSql(f"e.duration_ms between :{n}lo and :{n}hi", {f"{n}lo": lo, f"{n}hi": hi})
    term = Term(v, "text" if key == "text" else key)
    probe, params = term.verify_sql(n)
    match = term.match() if indexed else None
    if match is None:
        return TermSql(probe, params)
    candidates, more = candidates_sql(match, f"{n}m")
    return TermSql(probe, params | more, f"e.rowid in ({candidates}) and {probe}",
                   f"select 1 from ({candidates})")  # fmt: skip


def _tag(v: str, n: str) -> TermSql:
    """Driven through the tag index; probed on the snapshot's own comma-joined `tags`
    (no join per row: tags never hold a comma)."""
    params: dict[str, Any]
    if v.endswith("*") and "*" not in v[:-1]:
        params = {f"{n}lo": v[:-1], f"{n}hi": v[:-1] + TOP, f"{n}g": f"*,{glob_escape(v[:-1])}*"}
        where = f"t.tag >= :{n}lo and t.tag < :{n}hi"
    else:
        params, where = {n: v, f"{n}g": f"*,{glob_escape(v)},*"}, f"t.tag = :{n}"
    return TermSql(
        f"exists (select 1 from devices d where d.exchange_id = e.id"
        f" and ',' || d.tags || ',' glob :{n}g)",
        params, f"e.id in (select t.exchange_id from device_tags t where {where})",
        f"select 1 from device_tags t where {where}",
    )  # fmt: skip


MATCH = "_match"
"""The column holding the whole filter's SQL verdict (NULL: judge the row on read)."""

Findings = Callable[[dict[str, Any]], tuple[frozenset[str], tuple[str, ...]]]
"""A row → (the severities of its findings, and worse implied; its failing rule ids)."""


@dataclass(slots=True)
class Plan:
    """SQL for a filter: conditions, parameters, and the per-term columns Python needs."""

    where: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    """`(test) as cN` for each SQL term, selected when findings terms need Python."""

    node: Node | None = None
    names: dict[int, str] = field(default_factory=dict)
    """id(atom) → its parameter prefix (and column name)."""

    @property
    def needs_findings(self) -> bool:
        return any(a.key in PYTHON_KEYS for a in atoms(self.node))

    def keep(self, row: dict[str, Any], findings: Findings) -> bool:
        """Whether a fetched row matches the whole filter (SQL only gave a superset)."""
        if self.node is None or not self.needs_findings:
            return True
        known = row.get(MATCH)
        if known is not None:  # judged under the current rule set: SQL decided
            return bool(known)
        return self._eval(self.node, row, findings)

    def _eval(self, node: Node, row: dict[str, Any], findings: Findings) -> bool:
        if isinstance(node, Atom):
            if node.key == "severity":
                return node.value in findings(row)[0]
            if node.key == "rule":
                return any(fnmatchcase(r, node.value) for r in findings(row)[1])
            return bool(row[self.names[id(node)]])
        if isinstance(node, Not):
            return not self._eval(node.child, row, findings)
        if isinstance(node, And):
            return all(self._eval(c, row, findings) for c in node.children)
        return any(self._eval(c, row, findings) for c in node.children)


def _exact(node: Node, sqls: dict[int, TermSql | None], strict: bool = False) -> str | None:
    """The node as SQL, or None when it needs findings judged on read.

    Under a node holding findings terms (`strict`), other terms are made 0/1 so that only
    the findings' NULL (not judged under the current rule set) stays unknown."""
    if isinstance(node, Atom):
        found = sqls[id(node)]
        if found is None:
            return None
        bare = not strict or node.key in PYTHON_KEYS
        return found.probe if bare else f"coalesce(({found.probe}), 0)"
    strict = strict or _has_findings(node)
    if isinstance(node, Not):
        inner = _exact(node.child, sqls, strict)
        if inner is None:
            return None
        return f"not ({inner})" if strict else f"not coalesce(({inner}), 0)"
    parts = [_exact(c, sqls, strict) for c in node.children]
    if any(p is None for p in parts):
        return None
    joiner = " and " if isinstance(node, And) else " or "
    return "(" + joiner.join(f"({p})" for p in parts if p) + ")"


def _has_findings(node: Node) -> bool:
    return any(a.key in PYTHON_KEYS for a in atoms(node))


def _superset(node: Node, sqls: dict[int, TermSql | None]) -> str | None:
    """SQL every matching row satisfies (None: no constraint)."""
    exact = _exact(node, sqls)
    if exact is not None or isinstance(node, Atom | Not):
        return exact
    parts = [_superset(c, sqls) for c in node.children]
    if isinstance(node, And):
        kept = [p for p in parts if p]
        return "(" + " and ".join(f"({p})" for p in kept) + ")" if kept else None
    if any(p is None for p in parts):
        return None
    return "(" + " or ".join(f"({p})" for p in parts) + ")"


def plan(
    node: Node | None,
    count: Callable[[str, dict[str, Any]], int],
    *,
    indexed: bool = True,
    ruleset: str | None = None,
) -> Plan:
    """The SQL for `node`; `count(sql, params)` counts a term's rows up to DRIVE_CAP;
    `indexed` says whether the file has the search index (else text terms read rows);
    `ruleset`, when the file has stored findings, is the current rule set's fingerprint."""
    result = Plan(node=node)
    if node is None:
        return result
    sqls: dict[int, TermSql | None] = {}
    judged = ruleset is not None
    if judged and any(a.key in PYTHON_KEYS for a in atoms(node)):
        result.params["rs"] = ruleset
    for i, atom in enumerate(atoms(node)):
        name = f"p{i}"
        result.names[id(atom)] = f"c{i}"
        found = term_sql(atom, name, indexed=indexed, judged=judged)
        sqls[id(atom)] = found
        if found:
            result.params.update(found.params)
    terms = top_terms(node)
    driver, fewest = None, DRIVE_CAP
    for term in terms:
        found = sqls.get(id(term)) if isinstance(term, Atom) else None
        if found is not None and found.count is not None and found.drive is not None:
            n = count(found.count, found.params)
            if n < fewest:
                driver, fewest = term, n
    for term in terms:
        found = sqls.get(id(term)) if isinstance(term, Atom) else None
        if term is driver and found is not None and found.drive is not None:
            result.where.append(found.drive)
        elif (sql := _superset(term, sqls)) is not None:
            unknown = any(a.key in PYTHON_KEYS for a in atoms(term))
            result.where.append(f"coalesce(({sql}), 1)" if unknown else sql)
    if result.needs_findings:
        for atom in atoms(node):
            found = sqls[id(atom)]
            if found is not None and atom.key not in PYTHON_KEYS:
                result.columns.append(
                    f"coalesce(({found.probe}), 0) as {result.names[id(atom)]}"
                )
        whole = _exact(node, sqls)
        if whole is not None:
            result.columns.append(f"({whole}) as {MATCH}")
    return result
