"""Every finding quotes a sentence that is really in the section it names, about its own
operation, and carries a public address and a docs section a user can open."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from proxy.model import Op
from proxy.rules import Finding, Rule, SessionRule, check, check_session, citations, rules
from proxy.rules.responses import EXPECT
from tests.rules.factories import make
from tests.rules.test_docs import DOCS, SHARED, _normal
from tests.rules.test_examples import EXAMPLES
from tests.rules.test_session import SESSION_EXAMPLES

OWN = ("hubscope issue 4",)
"""Sources that are hubscope's own issues: no public page, the docs section explains them."""

PATHS = {
    Op.CREATE_REGISTRATION: ("POST", "registrations"),
    Op.CREATE_REGISTRATION_ID: ("POST", "registrationIDs"),
    Op.CREATE_OR_UPDATE_REGISTRATION: ("PUT", "registrations/1-2-3"),
    Op.UPDATE_REGISTRATION: ("PUT", "registrations/1-2-3"),
    Op.READ_REGISTRATION: ("GET", "registrations/1-2-3"),
    Op.DELETE_REGISTRATION: ("DELETE", "registrations/1-2-3"),
    Op.LIST_REGISTRATIONS: ("GET", "registrations"),
    Op.LIST_REGISTRATIONS_BY_TAG: ("GET", "tags/t/registrations"),
    Op.LIST_REGISTRATIONS_BY_CHANNEL: ("GET", "registrations"),
    Op.CREATE_OR_OVERWRITE_INSTALLATION: ("PUT", "installations/i1"),
    Op.READ_INSTALLATION: ("GET", "installations/i1"),
    Op.PATCH_INSTALLATION: ("PATCH", "installations/i1"),
    Op.DELETE_INSTALLATION: ("DELETE", "installations/i1"),
    Op.SEND: ("POST", "messages"),
    Op.SEND_DIRECT: ("POST", "messages"),
    Op.SEND_BATCH: ("POST", "messages/$batch"),
    Op.SCHEDULE_SEND: ("POST", "schedulednotifications"),
    Op.CANCEL_SCHEDULED_SEND: ("DELETE", "schedulednotifications/7"),
    Op.READ_NOTIFICATION: ("GET", "messages/7"),
}
QUERIES = {Op.LIST_REGISTRATIONS_BY_CHANNEL: "$filter=DeviceToken+eq+'AB'&api-version=2020-06",
           Op.SEND_DIRECT: "direct&api-version=2020-06",
           Op.SEND_BATCH: "direct&api-version=2020-06"}  # fmt: skip


def answered(op: Op, status: int, content_type: str) -> list[Finding]:
    """Every finding on `op` answered with `status`, its body empty, labelled `content_type`."""
    method, path = PATHS[op]
    query = QUERIES.get(op, "api-version=2020-06")
    headers = {"If-Match": '"1"'} if op is Op.UPDATE_REGISTRATION else {}
    item = make(method, path, query=query, headers=headers, status=status,
                response_headers={"Content-Type": content_type})  # fmt: skip
    assert item[1].operation.name is op
    return check(*item)


def every_finding() -> Iterator[Finding]:
    """What the examples and every operation's answers (odd statuses, odd labels) produce."""
    for passing, failing in EXAMPLES.values():
        yield from check(*passing)
        yield from check(*failing)
    for passing, failing in SESSION_EXAMPLES.values():
        yield from check_session(passing)
        yield from check_session(failing)
    for op in EXPECT:
        for status in (200, 201, 204, 404, 412, 418):
            yield from answered(op, status, "text/plain")


FINDINGS = {(f.rule, f.spec, f.source, f.url, f.docs): f for f in every_finding()}


def test_no_rule_crashes_on_the_examples() -> None:
    crashed = {f.rule: f.actual for f in FINDINGS.values() if f.actual.startswith("rule failed")}
    assert not crashed


def section(source: str) -> str:
    """The text of the section a source names (a seed anchor, a spec §, or a whole file)."""
    first = source.split(";")[0].strip()
    name, _, where = first.partition(" ")
    page, _, anchor = name.partition("#")
    text = (SHARED / page).read_text(encoding="utf-8")
    if anchor:
        heading = re.search(rf"^##+ ({anchor.replace('-', '[ -]')})\s*$", text, re.M | re.I)
        assert heading, f"{page} has no section #{anchor}"
        rest = text[heading.end() :]
        end = re.search(r"^## ", rest, re.M)
        return f"{heading.group(1)}: {rest[: end.start() if end else None]}"
    number = re.match(r"§(\d+)(?:\.(\d+)|([a-z]))?", where)
    if not number:
        return text
    major, minor, letter = number.groups()
    subsection = rf"^### {major}(\.{minor}|{letter})\b.*$"
    sub = re.search(subsection, text, re.M) if minor or letter else None
    top = re.search(rf"^## {major}\.\s.*$", text, re.M)
    start = sub or top
    assert start, f"{page} has no §{major}{'.' + minor if minor else letter or ''}"
    rest = text[start.end() :]
    end = re.search(r"^##+ " if sub else r"^## ", rest, re.M)
    body = rest[: end.start() if end else None]
    if minor and not sub:  # §16.2: the second item of §16's numbered list
        item = re.search(rf"^{minor}\. (.*?)(?=^\d+\. |\Z)", body, re.M | re.S)
        assert item, f"{page} §{major} has no item {minor}"
        return item.group(1)
    return body


def quoted(spec: str, text: str) -> bool:
    """The quote's words appear in the text, `…` standing for what was left out."""
    haystack = _normal(text)
    position = 0
    for fragment in (_normal(part) for part in spec.split("…")):
        found = haystack.find(fragment, position)
        if fragment and found < 0:
            return False
        position = max(found, position)
    return True


@pytest.mark.skipif(not (SHARED / "seeds").is_dir(), reason="shared notes not checked out")
@pytest.mark.parametrize("key", sorted(FINDINGS), ids=lambda k: f"{k[0]}:{k[2]}")
def test_the_quote_is_in_the_section_it_names(key: tuple[str, ...]) -> None:
    rule, spec, source, url, docs = key
    if source.startswith(OWN):
        return
    parts = [part.strip() for part in source.split(";") if part.strip()]
    files = [part for part in parts if part.startswith(("seeds/", "spec/", "corpus/"))]
    sections = [
        (SHARED / "corpus/real-traffic/SOURCES.md").read_text()
        if part.startswith("corpus/") else section(part)
        for part in files
    ]  # fmt: skip
    if any(quoted(spec, text) for text in sections):
        return
    public = [part for part in parts if citations.NAMED.search(part)]
    assert public, f"{rule}: “{spec}” not in {source}"  # else quoted from a public page it names


@pytest.mark.parametrize("key", sorted(FINDINGS), ids=lambda k: f"{k[0]}:{k[2]}")
def test_every_finding_points_where_a_user_can_read(key: tuple[str, ...]) -> None:
    rule, _spec, source, url, docs = key
    assert docs == f"docs/spec-rules.md#{rule}"
    assert f'<a id="{rule}"></a>' in DOCS
    if source.startswith(OWN):
        assert url is None
        return
    assert url and url.startswith("https://"), (rule, source)
    page, _, anchor = source.partition("#")
    if page in citations.SEED_PAGES:
        assert url == citations.SEED_PAGES[page][1] + (f"#{anchor}" if anchor else "")


def test_an_atom_feed_is_not_judged_by_the_installations_sentence() -> None:
    """The regression of the issue: a list's Content-Type note quoted installations."""
    [feed] = [f for f in answered(Op.LIST_REGISTRATIONS_BY_CHANNEL, 200, "application/xml")
              if f.rule == "response.content-type"]  # fmt: skip
    assert "type=feed" in feed.spec and "Installation" not in feed.spec
    [put] = [f for f in answered(Op.CREATE_OR_OVERWRITE_INSTALLATION, 200, "application/xml")
             if f.rule == "response.content-type"]  # fmt: skip
    assert put.spec.startswith("Installation responses are labelled")
    [entry] = [f for f in answered(Op.CREATE_OR_UPDATE_REGISTRATION, 200, "text/plain")
               if f.rule == "response.content-type"]  # fmt: skip
    assert entry.source == "seeds/create-or-update-registration.md#response-headers"


SEED_OF = {page: {op for op, seed in citations.SEED_OF.items() if seed == page}
           for page in citations.SEED_PAGES}  # fmt: skip
UPSERTS = {Op.CREATE_OR_UPDATE_REGISTRATION, Op.UPDATE_REGISTRATION}
DEFERRED = {"seeds/create-registration.md#request-body": UPSERTS,
            "seeds/create-registration.md#response-body": UPSERTS}  # fmt: skip
"""The upsert page's body sections say "as in Create a registration": its rules are quoted."""
GENERAL = {"common.authorization", "common.authorization-unjudged", "common.x-ms-version"}
"""Header rules whose Create Registration sentence holds for every call without a page."""


def judged_by_operation() -> Iterator[tuple[Op, Finding]]:
    for op in PATHS:
        for status in (200, 404, 418):
            for finding in answered(op, status, "text/plain"):
                yield op, finding
    for items in EXAMPLES.values():
        for exchange, decoded in items:
            for finding in check(exchange, decoded):
                yield decoded.operation.name, finding


def test_a_seed_page_is_quoted_only_about_its_own_operations() -> None:
    for op, finding in judged_by_operation():
        page = finding.source.split("#")[0]
        if page not in citations.SEED_PAGES:
            continue
        about = (SEED_OF[page] or {Op.CREATE_REGISTRATION}) | DEFERRED.get(finding.source, set())
        assert op in about or (finding.rule in GENERAL and op not in citations.SEED_OF), (
            f"{finding.rule} on {op} quotes {finding.source}"
        )


def reference(rule: Rule | SessionRule) -> str:
    """The rule's section of docs/spec-rules.md, exactly (a failure prints what to paste)."""
    url = citations.url(rule.source)
    where = f" — <{url}>" if url else " (hubscope's own rule; no public page)"
    return "\n".join([
        f'<a id="{rule.id}"></a>', "", f"### `{rule.id}`", "",
        f"**{rule.severity}** — expected: {rule.expected}", "",
        f"> {' '.join(rule.spec.split())}", "",
        f"Source: {citations.title(rule.source)}{where}", "",
    ])  # fmt: skip


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r.id)
def test_every_rule_has_a_reference_section_with_its_sentence_and_link(
    rule: Rule | SessionRule,
) -> None:
    block = reference(rule)
    assert block in DOCS + "\n", f"docs/spec-rules.md, Rule reference, needs:\n\n{block}"
