"""The DataContract order walk, and `ok` findings for the viewer's "meets" column."""

from __future__ import annotations

import pytest

from proxy.rules import check, order
from tests.rules.factories import TOKEN_EL, el, reg

TYPES = [
    f"{kind}{template}RegistrationDescription"
    for kind in ("Windows", "Mpns", "Apple", "Gcm", "FcmV1", "Adm", "Baidu", "Browser", "Xiaomi")
    for template in ("", "Template")
]


@pytest.mark.parametrize("source_type", TYPES)
def test_canonical_order_is_met_by_itself(source_type: str) -> None:
    shape = order.canonical(source_type)
    assert shape is not None
    assert order.misplaced(tuple(name for name, _ in shape), shape) == []


def test_unknown_types_have_no_order() -> None:
    assert order.canonical("FcmRegistrationDescription") is None
    assert order.canonical("Apple") is None


def _misplaced(source_type: str, *elements: str) -> list[tuple[str, bool, str]]:
    shape = order.canonical(source_type)
    assert shape is not None
    return [(m.element, m.required, m.after) for m in order.misplaced(elements, shape)]


def test_js_sdk_orders() -> None:
    assert _misplaced("AppleTemplateRegistrationDescription", "Tags", "DeviceToken",
                      "BodyTemplate", "TemplateName", "Expiry", "ApnsHeaders") == [
        ("Expiry", False, "TemplateName")
    ]  # fmt: skip
    assert _misplaced("BaiduRegistrationDescription", "BaiduChannelId", "BaiduUserId") == [
        ("BaiduUserId", True, "BaiduChannelId")
    ]
    windows = ("ChannelUri", "BodyTemplate", "TemplateName", "WnsHeaders")
    assert _misplaced("WindowsTemplateRegistrationDescription", *windows) == [
        ("WnsHeaders", True, "TemplateName")
    ]


def test_unknown_elements_do_not_move_the_cursor() -> None:
    assert _misplaced("AppleRegistrationDescription", "Tags", "Colour", "DeviceToken") == []


def test_tags_after_the_handle_are_dropped() -> None:
    """azure-notificationhubs-samples #11/#12: the registration was created without tags."""
    assert _misplaced("WindowsRegistrationDescription", "ChannelUri", "Tags") == [
        ("Tags", False, "ChannelUri")
    ]


def test_include_ok_reports_met_rules() -> None:
    found = check(*reg(el("Tags", "a"), TOKEN_EL), include_ok=True)
    ok = {f.rule for f in found if f.ok}
    assert {"registration.element-order-required", "tags.grammar", "sas.expired"} <= ok
    assert all(f.severity == "ok" for f in found)


def test_include_ok_keeps_violations() -> None:
    found = check(*reg(TOKEN_EL, el("Tags", "a")), include_ok=True)
    by_rule = {f.rule: f.severity for f in found}
    assert by_rule["registration.element-order-optional"] == "warning"
    assert by_rule["registration.element-order-required"] == "ok"
