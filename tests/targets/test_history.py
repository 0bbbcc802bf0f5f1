"""Device state over time, from calls a real stand-in hub answered."""

from __future__ import annotations

import json

import pytest

from proxy.model import Device, Op, PatchOp, Platform, Template
from proxy.targets import Snapshot, expiry_of
from proxy.targets.patch import apply_patch
from tests.hubclient import CONNECT
from tests.targets.recorder import Recorder, installation_doc, outcome_of

APPLE = "ab" * 32
ATOM = {"Content-Type": "application/atom+xml;type=entry;charset=utf-8"}
PATCH = {"Content-Type": "application/json-patch+json"}


def only(snapshots: list[Snapshot], ident: str) -> Snapshot:
    [found] = [s for s in snapshots if s.ident == ident]
    return found


def test_a_deleted_registration_keeps_its_last_state_and_when(recorder: Recorder) -> None:
    rid = recorder.register("Apple", APPLE, ["news"])
    deleted = recorder.call("DELETE", f"/registrations/{rid}", headers={"If-Match": "*"})
    history = recorder.recording().history
    before = only(history.at(deleted.started_at), rid)
    assert not before.deleted and before.device and before.device.tags == ("news",)
    after = only(history.at(), rid)
    assert after.deleted and after.at == deleted.started_at and after.exchange_id == deleted.id
    assert after.handle == APPLE.upper() and after.platform is Platform.APNS
    assert after.registrations() == ()


def test_tags_the_hub_silently_dropped_are_gone_and_remembered(recorder: Recorder) -> None:
    late_tags = (
        '<?xml version="1.0" encoding="utf-8"?><entry xmlns="http://www.w3.org/2005/Atom">'
        f'<content type="application/xml"><AppleRegistrationDescription {CONNECT}>'
        f"<DeviceToken>{APPLE}</DeviceToken><Tags>news,sports</Tags>"
        "</AppleRegistrationDescription></content></entry>"
    )
    exchange = recorder.call("POST", "/registrations", late_tags, ATOM)
    assert exchange.status == 200
    [snapshot] = recorder.recording().history.at()
    assert snapshot.device is not None and snapshot.device.tags == ()
    assert snapshot.dropped == ("news", "sports")


def test_an_installation_follows_put_patch_and_read(recorder: Recorder) -> None:
    recorder.install(installation_doc("i1", "apns", APPLE, ["a"], {"t1": ["x"]}, user="u1"))
    ops = [
        {"op": "add", "path": "/tags", "value": "b"},
        {"op": "remove", "path": "/tags/a"},
        {"op": "add", "path": "/templates/t2", "value": json.dumps({"body": "{}"})},
    ]
    patched = recorder.call("PATCH", "/installations/i1", json.dumps(ops), PATCH)
    assert patched.status == 200
    assert recorder.call("GET", "/installations/i1").status == 200
    [snapshot] = recorder.recording().history.at()
    assert snapshot.operation is Op.PATCH_INSTALLATION, (
        "a read showing the same state changes nothing"
    )
    native, t1, t2 = snapshot.registrations()
    assert native.tags == ("$InstallationId:{i1}", "$UserId:{u1}", "b") and not native.template
    assert t1.template_name == "t1" and t1.tags == (*native.tags, "x", "t1")
    assert t2.template_name == "t2" and t2.tags == (*native.tags, "t2")


def test_a_listing_names_an_installations_registrations(recorder: Recorder) -> None:
    recorder.install(installation_doc("i1", "gcm", "tok", ["a"], {"t1": []}))
    recorder.call("GET", "/registrations")
    history = recorder.recording().history
    [snapshot] = history.at()
    assert {name for name, _ in snapshot.aliases} == {None, "t1"}
    assert all(reg.registration_id for reg in snapshot.registrations())
    key = (snapshot.hub, "installation", "i1")
    assert history.keys_for(dict(snapshot.aliases)["t1"]) == {key}
    assert history.keys_for("TOK") == history.keys_for(" i1 ") == {key}
    assert history.at(None, snapshot.hub, set()) == []


def test_deleting_an_installations_registrations_as_the_hub_does(recorder: Recorder) -> None:
    recorder.install(installation_doc("i1", "gcm", "tok", ["a"], {"t1": [], "t2": []}))
    recorder.call("GET", "/registrations")
    [snapshot] = recorder.recording().history.at()
    ids = dict(snapshot.aliases)
    recorder.call("DELETE", f"/registrations/{ids['t1']}", headers={"If-Match": "*"})
    send = recorder.debug_send("template", "a")
    [snapshot] = recorder.recording().history.at()
    assert [r.template_name for r in snapshot.registrations()] == [None, "t2"]
    assert [r.registration_id for r in outcome_of(send)] == [ids["t2"]]
    recorder.call("DELETE", f"/registrations/{ids[None]}", headers={"If-Match": "*"})
    [snapshot] = recorder.recording().history.at()
    assert snapshot.deleted and snapshot.operation is Op.DELETE_REGISTRATION


def test_views_of_an_installation_give_way_to_the_installation(recorder: Recorder) -> None:
    earlier = Recorder(recorder.hubs, name=recorder.name)  # calls made before the recording
    earlier.install(installation_doc("i1", "fcmv1", "tok", ["a"]))
    recorder.call("GET", "/registrations")
    [view] = recorder.recording().history.at()
    assert view.kind == "registration" and view.device and view.device.installation_id == "i1"
    recorder.install(installation_doc("i1", "fcmv1", "tok", ["b"]))
    [snapshot] = recorder.recording().history.at()
    assert snapshot.kind == "installation" and snapshot.registrations()[0].tags[-1] == "b"


def test_a_patch_of_an_installation_never_seen_is_noted(recorder: Recorder) -> None:
    earlier = Recorder(recorder.hubs, name=recorder.name)
    earlier.install(installation_doc("i1", "apns", APPLE, []))
    ops = json.dumps([{"op": "add", "path": "/tags", "value": "a"}])
    assert recorder.call("PATCH", "/installations/i1", ops, PATCH).status == 200
    history = recorder.recording().history
    assert history.at() == [] and "never recorded" in history.notes[0]


def test_calls_the_hub_refused_change_nothing(recorder: Recorder) -> None:
    refused = recorder.call(
        "PUT", "/installations/i1", json.dumps({"installationId": "i1", "platform": "nope"})
    )
    assert refused.status == 400
    assert recorder.recording().history.at() == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9999-12-31T23:59:59.999", None),
        ("9999-12-31T23:59:59.9999999Z", None),
        ("2014-09-01T15:57:46.778Z", 1409587066.0),
        ("2024-11-26T23:34:01.1740468Z", 1732664041.0),
        ("", None),
        ("soon", None),
        ("2024-02-30T00:00:00Z", None),
    ],
)  # fmt: skip
def test_expiration_times_in_every_shape_the_service_writes(
    text: str, expected: float | None
) -> None:
    assert expiry_of(text) == expected


BASE = Device(
    kind="installation",
    source_type="installation",
    platform=Platform.BROWSER,
    handle="https://push/old",
    installation_id="i1",
    tags=("a",),
    templates=(Template(name="t1", body="{}", tags=("x",)),),
    push_channel_expired=True,
)


@pytest.mark.parametrize(
    ("op", "check"),
    [
        (PatchOp(op="add", path="/tags", value='["b","c"]'), lambda d: d.tags == ("a", "b", "c")),
        (PatchOp(op="replace", path="/tags", value="z"), lambda d: d.tags == ("z",)),
        (PatchOp(op="remove", path="/tags"), lambda d: d.tags == ()),
        (PatchOp(op="add", path="/templates/t1/tags", value="y"),
         lambda d: d.templates[0].tags == ("x", "y")),
        (PatchOp(op="remove", path="/templates/t1"), lambda d: d.templates == ()),
        (PatchOp(op="replace", path="/pushChannel", value='{"endpoint":"https://push/new"}'),
         lambda d: d.handle == "https://push/new" and d.push_channel_expired is False),
        (PatchOp(op="add", path="/userId", value="u9"), lambda d: d.user_id == "u9"),
        (PatchOp(op="add", path="/pushVariables/v", value="1"), lambda d: d == BASE),
    ],
)  # fmt: skip
def test_patch_operations_with_the_services_meaning(op: PatchOp, check: object) -> None:
    assert check(apply_patch(BASE, (op,)))  # type: ignore[operator]
