"""SAS rules: the request's own clock, and every `sr` shape real clients sign."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from proxy.rules import check
from tests.rules.factories import NOW, TOKEN_EL, reg

SE = int(NOW + 600)


def _token(sr: str, se: int = SE) -> str:
    return f"SharedAccessSignature sr={sr}&sig=x&se={se}&skn=k"


def _rules(**headers: str) -> set[str]:
    item = reg(TOKEN_EL, headers=dict(headers), started_at=NOW)
    return {f.rule for f in check(*item) if f.rule.startswith(("sas.", "common.auth"))}


@pytest.mark.parametrize(
    "sr",
    [
        "https%3A%2F%2Fns.servicebus.windows.net%2F",  # JS: namespace root, upper-case hex
        "http%3a%2f%2fns.servicebus.windows.net%2fmyhub%2fregistrations%2f",  # .NET: http, path
        "https%3a%2f%2fns.servicebus.windows.net%2fmyhub%2fregistrations%3fapi-version%3d2020-06",
        "http%3a%2f%2fns.servicebus.windows.net%2fmyhub",  # the docs: the hub URL
        "HTTPS%3A%2F%2FNS.SERVICEBUS.WINDOWS.NET%3A443%2FMYHUB%2F",  # any case, with a port
    ],
)
def test_every_sr_shape_real_clients_sign_is_accepted(sr: str) -> None:
    assert _rules(Authorization=_token(sr)) == set()


def test_sr_for_another_hub_is_an_audience_error() -> None:
    sr = "https%3A%2F%2Fns.servicebus.windows.net%2Fotherhub%2F"
    assert _rules(Authorization=_token(sr)) == {"sas.audience"}


def test_sr_naming_the_reverse_proxy_is_refused_unless_hubscope_re_signed_it() -> None:
    """Through the reverse proxy the app signs for the proxy's host; the hub refuses that."""
    sr = "http%3A%2F%2F127.0.0.1%3A8080%2F"
    found = check(*reg(TOKEN_EL, headers={"Authorization": _token(sr), "Host": "127.0.0.1:8080"}))
    [finding] = [f for f in found if f.rule.startswith("sas.")]
    assert finding.rule == "sas.audience-proxy"
    assert "names 127.0.0.1:8080, the address the app called, not the hub" in finding.actual
    assert "--connection-string" in finding.expected and "--forward" in finding.expected
    resigned = reg(
        TOKEN_EL,
        headers={"Authorization": _token(sr), "Host": "127.0.0.1:8080"},
        verdict="valid; re-signed by hubscope for https://ns.servicebus.windows.net/",
    )
    assert not [f for f in check(*resigned) if f.rule.startswith("sas.audience")]


def test_the_date_header_is_the_request_clock() -> None:
    sr = "https%3A%2F%2Fns.servicebus.windows.net%2F"
    late = formatdate(SE + 60, usegmt=True)
    early = formatdate(NOW - 120, usegmt=True)  # the client clock lagged the proxy
    assert _rules(Authorization=_token(sr), Date=late) == {"sas.expired"}
    assert _rules(Authorization=_token(sr, se=int(NOW - 60)), Date=early) == set()


def test_an_unreadable_date_falls_back_to_the_capture_time() -> None:
    sr = "https%3A%2F%2Fns.servicebus.windows.net%2F"
    assert _rules(Authorization=_token(sr, se=int(NOW - 60)), Date="yesterday") == {"sas.expired"}


def test_field_order_does_not_matter() -> None:
    value = (
        f"SharedAccessSignature sig=x&se={SE}&skn=k&sr=https%3a%2f%2fns.servicebus.windows.net%2f"
    )
    assert _rules(Authorization=value) == set()


def test_unchecked_verdict_is_not_judged() -> None:
    item = reg(TOKEN_EL, verdict="unchecked: no key named 'k' was configured")
    assert [f for f in check(*item) if f.rule == "sas.signature"] == []
