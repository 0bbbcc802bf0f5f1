"""Session rules: each with a passing and a failing sequence of exchanges."""

from __future__ import annotations

import pytest

from proxy.rules import SESSION_RULES, check_session
from tests.rules.factories import (
    APPLE,
    HOST,
    TOKEN_EL,
    Item,
    el,
    entry,
    inst,
    installation,
    make,
    reg,
)

REG_ID = "3600470869281718653-4685036066143092984-2"
LOCATION = {"Location": f"https://{HOST}/myhub/registrationids/{REG_ID}"}
DEVICE = "00fc13adff785122"
OTHER = "10.0.0.2:6000"


def _create_id() -> Item:
    return make("POST", "registrationIDs", status=201, response_headers=LOCATION)


def _put(rid: str = REG_ID, if_match: str | None = None, etag: str = "1",
         client: str = "10.0.0.1:5000") -> Item:  # fmt: skip
    body = entry("AppleRegistrationDescription", el("ETag", etag), el("RegistrationId", rid),
                 TOKEN_EL)  # fmt: skip
    return make("PUT", f"registrations/{rid}", APPLE, headers={"If-Match": if_match},
                status=200, response_body=body, client=client)  # fmt: skip


def _read(rid: str, etag: str, client: str = "10.0.0.1:5000") -> Item:
    body = entry("AppleRegistrationDescription", el("ETag", etag), el("RegistrationId", rid),
                 TOKEN_EL)  # fmt: skip
    return make("GET", f"registrations/{rid}", status=200, response_body=body, client=client)


SESSION_EXAMPLES: dict[str, tuple[list[Item], list[Item]]] = {
    "session.registration-id-unused": ([_create_id(), _put()], [_create_id()]),
    "session.duplicate-registration": (
        [
            reg(TOKEN_EL, status=200),
            reg(
                TOKEN_EL,
                el("BodyTemplate", "{}"),
                root="AppleTemplateRegistrationDescription",
                status=200,
            ),
        ],
        [reg(TOKEN_EL, status=200), reg(TOKEN_EL, status=200)],
    ),  # fmt: skip
    "session.lost-update": (
        # one client upserting its own registration again and again is fine
        [_read("1-2-3", "1"), _put("1-2-3", etag="2"), _put("1-2-3", etag="3")],
        # A reads v1, B writes v2, A overwrites without If-Match: B's change is lost
        [_read("1-2-3", "1"), _put("1-2-3", etag="2", client=OTHER), _put("1-2-3", etag="3")],
    ),
    "session.mixed-api-versions": (
        [reg(TOKEN_EL), reg(TOKEN_EL)],
        [reg(TOKEN_EL), reg(TOKEN_EL, query="api-version=2017-04")],
    ),
    "session.registration-and-installation": (
        [reg(TOKEN_EL), inst(installation(pushChannel="ffff"))],
        [reg(TOKEN_EL), inst(installation(pushChannel=DEVICE))],
    ),
}


def _found(items: list[Item], rule_id: str) -> list[str]:
    return [f.exchange_id for f in check_session(items) if f.rule == rule_id]


@pytest.mark.parametrize("rule_id", sorted(SESSION_EXAMPLES))
def test_passing_sequence(rule_id: str) -> None:
    passing, _ = SESSION_EXAMPLES[rule_id]
    assert _found(passing, rule_id) == []


@pytest.mark.parametrize("rule_id", sorted(SESSION_EXAMPLES))
def test_failing_sequence_names_the_later_exchange(rule_id: str) -> None:
    _, failing = SESSION_EXAMPLES[rule_id]
    assert _found(failing, rule_id) == [failing[-1][0].id]


def test_every_session_rule_is_a_warning() -> None:
    assert {r.severity for r in SESSION_RULES} == {"warning"}


def test_failed_creates_are_not_duplicates() -> None:
    items = [reg(TOKEN_EL, status=200), reg(TOKEN_EL, status=400)]
    assert _found(items, "session.duplicate-registration") == []


def test_a_conditional_put_is_not_a_lost_update() -> None:
    items = [_read("1-2-3", "1"), _put("1-2-3", etag="2", client=OTHER),
             _put("1-2-3", if_match='"1"', etag="3")]  # fmt: skip
    assert _found(items, "session.lost-update") == []


def test_a_client_that_read_the_newer_version_is_not_flagged() -> None:
    items = [_read("1-2-3", "1"), _put("1-2-3", etag="2", client=OTHER), _read("1-2-3", "2"),
             _put("1-2-3", etag="3")]  # fmt: skip
    assert _found(items, "session.lost-update") == []
