"""No rule fails on odd but decodable bodies: every crash would surface as 'rule failed'."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.rules import check
from tests.rules.factories import entry, make

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=12,
)  # fmt: skip
KEYS = st.sampled_from(
    ["installationId", "platform", "pushChannel", "tags", "templates", "userId",
     "secondaryTiles", "expirationTime", "pushVariables", "body", "headers", "expiry"]
)  # fmt: skip
INSTALLATION = st.dictionaries(KEYS, JSON, max_size=8)
ELEMENTS = st.sampled_from(
    ["Tags", "DeviceToken", "BodyTemplate", "Expiry", "TemplateName", "Priority", "ETag",
     "RegistrationId", "ChannelUri", "WnsHeaders", "BaiduUserId", "Nonsense"]
)  # fmt: skip
ROOTS = st.sampled_from(
    ["AppleTemplateRegistrationDescription", "WindowsTemplateRegistrationDescription",
     "BaiduRegistrationDescription", "FcmRegistrationDescription", "RegistrationDescription"]
)  # fmt: skip


def _crashes(findings: list[Any]) -> list[str]:
    return [f"{f.rule}: {f.actual}" for f in findings if f.actual.startswith("rule failed")]


@settings(max_examples=150, deadline=None)
@given(INSTALLATION)
def test_installation_bodies(body: dict[str, Any]) -> None:
    assert _crashes(check(*make("PUT", "installations/i1", json.dumps(body)))) == []


@settings(max_examples=100, deadline=None)
@given(JSON)
def test_patch_bodies(body: Any) -> None:
    assert _crashes(check(*make("PATCH", "installations/i1", json.dumps(body)))) == []


@settings(max_examples=150, deadline=None)
@given(ROOTS, st.lists(st.tuples(ELEMENTS, st.text(max_size=5)), max_size=8))
def test_registration_bodies(root: str, children: list[tuple[str, str]]) -> None:
    from xml.sax.saxutils import escape

    xml = entry(root, *(f"<{n}>{escape(v)}</{n}>" for n, v in children))
    assert _crashes(check(*make("POST", "registrations", xml, status=200))) == []


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80), st.text(max_size=20))
def test_authorization_and_version_headers(auth: str, version: str) -> None:
    headers: dict[str, str | None] = {"Authorization": auth, "x-ms-version": version}
    item = make("POST", "registrations", entry("AppleRegistrationDescription"), headers=headers)
    assert _crashes(check(*item)) == []


def test_a_failing_rule_becomes_a_warning_not_a_crash() -> None:
    from proxy.rules import Ctx, Rule

    def boom(ctx: Ctx) -> Any:
        raise KeyError("x")

    rule = Rule(id="t.boom", severity="error", spec="s", source="src", expected="e",
                applies=lambda ctx: True, check=boom)  # fmt: skip
    (finding,) = rule.judge(Ctx(*make("GET", "registrations/1")))
    assert (finding.severity, finding.actual) == ("warning", "rule failed: KeyError: 'x'")


def test_check_falls_back_to_judging_rule_by_rule(monkeypatch: Any) -> None:
    import proxy.rules as spec
    from proxy.rules import Breach, Ctx, Rule

    def boom(ctx: Ctx) -> Any:
        raise ValueError("bad")

    def fine(ctx: Ctx) -> Any:
        yield Breach(actual="seen")

    made = [Rule(id=f"t.{c.__name__}", severity="error", spec="s", source="src", expected="e",
                 applies=lambda ctx: True, check=c) for c in (fine, boom)]  # fmt: skip
    monkeypatch.setattr(spec, "rules_for", lambda op: tuple(made))
    found = spec.check(*make("GET", "registrations/1"))
    assert [(f.rule, f.severity) for f in found] == [("t.fine", "error"), ("t.boom", "warning")]
