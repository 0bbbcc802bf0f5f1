"""`targets` and the stand-in hub's debug send agree, on random devices and expressions."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from proxy.decode.sends import FORMATS, decode_send, format_of
from proxy.exchange import Exchange
from proxy.targets import InvalidTarget, Recording, Verdict
from tests.targets.recorder import (
    EXPIRED_HANDLES,
    HubThread,
    Recorder,
    installation_doc,
    outcome_of,
    registration_entry,
)

TAGS = ["a", "b", "c", "d", "$UserId:{u1}", "t1"]
PREFIXES = ["Apple", "Gcm", "FcmV1", "Windows", "Adm"]
PLATFORMS = ["apns", "gcm", "fcmv1", "wns", "adm"]
ATOM = {"Content-Type": "application/atom+xml;type=entry;charset=utf-8"}
JSON = {"Content-Type": "application/json-patch+json"}


def handle_for(prefix_or_platform: str, n: int) -> str:
    if prefix_or_platform in ("Apple", "apns"):
        return f"{n:02x}" * 32
    if prefix_or_platform in ("Windows", "wns"):
        return f"https://db5p.notify.windows.com/?token=t{n}"
    return f"token-{n}"


def stale_handle_for(platform: str) -> str:
    """A handle the hub's pretend PNS reports expired (`EXPIRED_HANDLES`)."""
    if platform == "apns":
        return "9A" * 32
    if platform == "wns":
        return "https://db5p.notify.windows.com/?token=stale"
    return "token-stale"


assert {stale_handle_for(p).lower() for p in PLATFORMS} == EXPIRED_HANDLES


@dataclass(frozen=True)
class Reg:
    prefix: str
    tags: list[str]
    template: str | None


@dataclass(frozen=True)
class Inst:
    platform: str
    tags: list[str]
    templates: dict[str, list[str]]
    user: bool
    stale: bool
    """Its channel is one the PNS reported expired; it is read back, as an app would see it."""


tag_lists = st.lists(st.sampled_from(["a", "b", "c", "d"]), unique=True, min_size=1, max_size=3)
registrations = st.builds(
    Reg, st.sampled_from(PREFIXES), tag_lists, st.one_of(st.none(), st.sampled_from(["t1", "t2"]))
)
installations = st.builds(
    Inst,
    st.sampled_from(PLATFORMS),
    tag_lists,
    st.dictionaries(st.sampled_from(["t1", "t2"]), tag_lists, max_size=1),
    st.booleans(),
    st.booleans(),
)
expressions = st.recursive(
    st.sampled_from(TAGS),
    lambda inner: st.one_of(
        st.builds(lambda e: f"!{e}", inner),
        st.builds(lambda x, y: f"({x} && {y})", inner, inner),
        st.builds(lambda x, y: f"{x} || {y}", inner, inner),
    ),
    max_leaves=8,
)


too_many = st.lists(st.sampled_from(TAGS), min_size=7, max_size=8).map(" && ".join)
"""Over the service's limit of 6 tags in an expression with `&&`: refused."""


@dataclass(frozen=True)
class Case:
    registrations: list[Reg]
    installations: list[Inst]
    updates: list[tuple[int, list[str]]]
    """Registration index → its tags rewritten by a PUT (create-or-update)."""

    patches: list[tuple[int, str]]
    """Installation index → a tag added by JSON Patch."""

    deletes: list[int]
    listed: bool
    """Whether the registrations were listed (the answer names installations' registrations)."""

    fmt: str
    expression: str | None


cases = st.builds(
    Case,
    st.lists(registrations, min_size=2, max_size=4),
    st.lists(installations, min_size=1, max_size=2),
    st.lists(st.tuples(st.integers(0, 3), tag_lists), max_size=2),
    st.lists(st.tuples(st.integers(0, 1), st.sampled_from(["a", "b", "c", "d"])), max_size=2),
    st.lists(st.integers(0, 5), max_size=2, unique=True),
    st.booleans(),
    st.one_of(
        st.sampled_from(["template", "apple", "gcm", "windows"]), st.sampled_from(sorted(FORMATS))
    ),
    st.one_of(st.none(), st.sampled_from(TAGS), expressions, too_many),
)


def reached(recording: Recording, send: Exchange) -> list[tuple[str, str, str | None]]:
    """(format, PNS handle, registration id when known) of every registration `targets` reaches."""
    [recorded] = [s for s in recording.sends if s.exchange_id == send.id]
    verdicts: list[Verdict] = recording.reach_of(recorded)
    out = []
    for verdict in verdicts:
        reg = verdict.registration
        if verdict.reached and reg is not None:
            out.append(
                (format_of(reg.platform) or "", (reg.handle or "").upper(), reg.registration_id)
            )
    return out


def play(recorder: Recorder, case: Case) -> Exchange:
    ids: list[str] = []
    for n, reg in enumerate(case.registrations):
        ids.append(recorder.register(reg.prefix, handle_for(reg.prefix, n), reg.tags, reg.template))
    for n, inst in enumerate(case.installations):
        doc = installation_doc(
            f"i{n}",
            inst.platform,
            stale_handle_for(inst.platform) if inst.stale else handle_for(inst.platform, 50 + n),
            inst.tags,
            inst.templates,
            "u1" if inst.user else None,
        )
        recorder.install(doc)
        ids.append(f"inst:i{n}")
    for index, tags in case.updates:
        if index < len(case.registrations):
            reg = case.registrations[index]
            body = registration_entry(reg.prefix, handle_for(reg.prefix, index), tags, reg.template)
            recorder.call("PUT", f"/registrations/{ids[index]}", body, ATOM)
    for index, tag in case.patches:
        if index < len(case.installations):
            patch = json.dumps([{"op": "add", "path": "/tags", "value": tag}])
            recorder.call("PATCH", f"/installations/i{index}", patch, JSON)
    for n, inst in enumerate(case.installations):
        if inst.stale:
            read = recorder.call("GET", f"/installations/i{n}")
            assert json.loads(read.response.body if read.response else b"")["pushChannelExpired"]
    for index in case.deletes:
        if index < len(ids):
            target = ids[index]
            if target.startswith("inst:"):
                recorder.call("DELETE", f"/installations/{target[5:]}")
            else:
                recorder.call("DELETE", f"/registrations/{target}", headers={"If-Match": "*"})
    if case.listed:
        assert recorder.call("GET", "/registrations").status == 200
    return recorder.debug_send(case.fmt, case.expression)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases)
def test_targets_lists_what_the_hub_reaches(hub_thread: HubThread, case: Case) -> None:
    recorder = Recorder(hub_thread)
    send = play(recorder, case)
    recording = recorder.recording()
    [recorded] = recording.sends
    if send.status == 400:
        event("refused")
        with pytest.raises(InvalidTarget):
            recorded.target()
        return
    assert send.status == 201, send.response
    assert recorded.refusal is None
    hub = [
        (r.platform or "", (r.handle or "").upper(), r.registration_id) for r in outcome_of(send)
    ]
    ours = reached(recording, send)
    assert len(hub) < 10, "keep each case under the debug send's cap"
    event(f"reached {min(len(hub), 3)}{'+' if len(hub) >= 3 else ''}")
    assert [(p, h) for p, h, _ in ours] == [(p, h) for p, h, _ in hub]
    for (_, _, mine), (_, _, theirs) in zip(ours, hub, strict=True):
        assert mine == theirs if case.listed else mine in (None, theirs)


def test_the_decoded_send_is_what_was_sent(recorder: Recorder) -> None:
    exchange = recorder.debug_send("template", "a && !b")
    send = decode_send(
        exchange.method, exchange.url, exchange.request, exchange.status, exchange.response
    )
    assert send is not None and send.test and send.format == "template" and send.tags == "a && !b"
