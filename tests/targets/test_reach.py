"""Each reason a registration is left out, in words, and the checks that pass on the way."""

from __future__ import annotations

import pytest

from proxy.model import Device, Op, Platform
from proxy.targets import (
    Hub,
    InvalidTarget,
    Recording,
    Snapshot,
    Target,
    Verdict,
    judge,
    matches,
    parse_target,
)
from tests.targets.recorder import Recorder, installation_doc

APPLE = "cd" * 32
WNS = "https://db5p.notify.windows.com/?token=w1"


def verdicts_for(recording: Recording, expression: str | None, fmt: str | None) -> list[Verdict]:
    return recording.reach(parse_target(expression, fmt), None, None)


def reason(verdicts: list[Verdict], ident: str, template: str | None = None) -> str | None:
    [found] = [
        v
        for v in verdicts
        if matches(v.snapshot, ident)
        and (
            v.snapshot.kind == "registration"
            or v.registration is None
            or v.registration.template_name == template
        )  # fmt: skip
    ]
    return found.reason


@pytest.fixture
def devices(recorder: Recorder) -> tuple[Recording, dict[str, str]]:
    """An APNs and a WNS registration, an APNs template one, an installation with a template."""
    ids = {
        "apple": recorder.register("Apple", APPLE, ["sports", "news"]),
        "wns": recorder.register("Windows", WNS, ["sports"]),
        "apple-template": recorder.register("Apple", "ef" * 32, ["sports"], template="alert"),
        "gone": recorder.register("Apple", "01" * 32, ["sports"]),
    }
    recorder.call("DELETE", f"/registrations/{ids['gone']}", headers={"If-Match": "*"})
    recorder.install(installation_doc("inst", "fcmv1", "fcm-1", ["sports"], {"promo": ["vip"]}))
    return recorder.recording(), ids


def test_what_is_reached_and_what_is_not(devices: tuple[Recording, dict[str, str]]) -> None:
    recording, ids = devices
    verdicts = verdicts_for(recording, "sports && !news", "apple")
    assert [v.snapshot.ident for v in verdicts if v.reached] == []
    verdicts = verdicts_for(recording, "sports", "apple")
    assert [v.snapshot.ident for v in verdicts if v.reached] == [ids["apple"]]
    templated = verdicts_for(recording, "sports", "template")
    reached = [
        (v.snapshot.ident, v.registration and v.registration.template_name)
        for v in templated
        if v.reached
    ]
    assert reached == [(ids["apple-template"], "alert"), ("inst", "promo")]


def test_reasons(devices: tuple[Recording, dict[str, str]]) -> None:
    recording, ids = devices
    apple = verdicts_for(recording, "sports && !news", "apple")
    assert reason(apple, ids["apple"]) == (
        "expression `sports && !news` is false: `!news` is false (has 'news', which a ! excludes)"
    )
    assert reason(apple, ids["wns"]) == (
        "format apple reaches apns registrations only; this one is wns (format windows)"
    )
    assert reason(apple, ids["apple-template"]) == (
        "format apple is a native send: it reaches native registrations only, not template "
        "'alert' (send with format template)"
    )
    assert (reason(apple, ids["gone"]) or "").startswith(
        "no registration left: deleted at "
    ) and "by delete_registration" in (reason(apple, ids["gone"]) or "")
    template = verdicts_for(recording, "(news || vip) && sports", "template")
    assert reason(template, "inst") == (
        "format template reaches template registrations only; this is its native registration "
        "(templates 'promo' apart)"
    )
    assert reason(template, ids["apple-template"]) == (
        "expression `(news || vip) && sports` is false: `(news || vip)` is false "
        "(missing 'news', 'vip')"
    )
    assert reason(template, ids["apple"]) == (
        "format template reaches template registrations only; this registration is native"
    )
    single = verdicts_for(recording, "weather", None)
    assert reason(single, ids["apple"]) == "tag missing: 'weather'"


def test_a_template_name_the_installation_lacks(recorder: Recorder) -> None:
    recorder.install(installation_doc("inst", "apns", APPLE, ["a"], {"promo": [], "alert": []}))
    verdicts = verdicts_for(recorder.recording(), "a && welcome", "template")
    assert reason(verdicts, "inst", "promo") == (
        "expression `a && welcome` is false: `welcome` is false (missing 'welcome') — no template "
        "named 'welcome' on this installation (templates: 'promo', 'alert')"
    )
    verdicts = verdicts_for(recorder.recording(), "alert", "template")
    assert reason(verdicts, "inst", "alert") is None
    assert reason(verdicts, "inst", "promo") == (
        "tag missing: 'alert' — 'alert' names this installation's template 'alert', and only "
        "that template carries it (this is template 'promo')"
    )


def test_tags_the_hub_dropped_are_named_in_the_reason(recorder: Recorder) -> None:
    entry = recorder.call(
        "POST",
        "/registrations",
        '<entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml">'
        '<AppleRegistrationDescription xmlns="http://schemas.microsoft.com/netservices/2010/10/'
        f'servicebus/connect"><DeviceToken>{APPLE}</DeviceToken><Tags>news</Tags>'
        "</AppleRegistrationDescription></content></entry>",
        {"Content-Type": "application/atom+xml;type=entry;charset=utf-8"},
    )
    verdicts = verdicts_for(recorder.recording(), "news", "apple")
    assert verdicts[0].reason == (
        f"tag missing: 'news' — 'news' was sent by exchange {entry.id} but the hub did not keep "
        "it (an optional element out of DataContract order is silently dropped)"
    )


HUB = Hub("ns.servicebus.windows.net", "hub")


def snapshot(device: Device, kind: str = "registration") -> Snapshot:
    return Snapshot(
        hub=HUB,
        kind=kind,  # type: ignore[arg-type]
        ident="r1" if kind == "registration" else "i1",
        device=device,
        exchange_id="e1",
        at=1_700_000_000.0,
        operation=Op.READ_REGISTRATION if kind == "registration" else Op.READ_INSTALLATION,
        since=1_700_000_000.0,
    )


def test_a_registration_past_its_expiration_is_gone() -> None:
    device = Device(
        kind="registration",
        source_type="AppleRegistrationDescription",
        platform=Platform.APNS,
        handle=APPLE,
        tags=("a",),
        expiration="2024-01-01T00:00:00Z",
    )
    target = parse_target("a", "apple")
    [before] = judge([snapshot(device)], target, 1_703_000_000.0)
    assert before.reached and before.steps[1].detail == "expires 2024-01-01T00:00:00Z"
    [after] = judge([snapshot(device)], target, 1_705_000_000.0)
    assert not after.reached and after.failed and after.failed.check == "expiry"
    assert after.reason == (
        "expired at 2024-01-01T00:00:00Z (ExpirationTime); the hub drops registrations past "
        "their expiration"
    )


def test_an_expired_push_channel_gets_nothing() -> None:
    device = Device(
        kind="installation",
        source_type="installation",
        platform=Platform.FCMV1,
        handle="tok",
        installation_id="i1",
        push_channel_expired=True,
    )
    [verdict] = judge([snapshot(device, "installation")], parse_target(None, "fcmv1"), None)
    assert verdict.failed and verdict.failed.check == "push-channel"
    assert (verdict.reason or "").startswith("pushChannelExpired is true (read at 2023-11-14T")


def test_a_direct_send_reaches_the_handle_whatever_is_registered() -> None:
    device = Device(
        kind="registration",
        source_type="AppleRegistrationDescription",
        platform=Platform.APNS,
        handle=APPLE.upper(),
        tags=("a",),
    )
    [hit] = judge([snapshot(device)], Target("apple", None, (APPLE,)), None)
    assert (
        hit.reached
        and hit.steps[0].detail == f"direct send to this device's handle {APPLE.upper()}"
    )
    [miss] = judge([snapshot(device)], Target("apple", None, ("other",)), None)
    assert miss.reason == "direct send to other handles (other)"


@pytest.mark.parametrize(
    ("expression", "fmt", "message"),
    [
        ("a || " * 20 + "a", "apple", "21 tags; at most 20"),
        ("a && b", "nosuchformat", "'ServiceBusNotification-Format' is missing or not supported"),
        ("a &&", "template", "ends too early"),
    ],
)
def test_targets_the_service_refuses(expression: str, fmt: str, message: str) -> None:
    with pytest.raises(InvalidTarget, match=message):
        parse_target(expression, fmt)
