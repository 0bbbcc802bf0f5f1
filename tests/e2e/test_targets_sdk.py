"""`hubscope targets` against a session the official JS SDK recorded through the proxy.

Devices of several platforms with overlapping tags, two installations with templates, a
deleted registration, then debug sends (`?test`, which name the registrations reached):
`targets`, run at each send's moment with the expression and format the SDK put on the
wire, lists exactly the registrations the stand-in hub named, and `--explain` gives the
reason for every device left out. The stand-in hub has no registration TTL, so an expired
registration cannot be recorded here; `tests/targets/test_reach.py` covers that reason.

Found on the way: JS SDK 2.1.0 sends a broadcast debug send (`enableTestSend` without
`tagExpression`) with `ServiceBusNotification-Tags: undefined`, so it reaches only
registrations tagged `undefined` (`send.tags-undefined` flags it).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from proxy import audit, serve, store
from proxy.cli import cli
from proxy.localhub import HubSettings, start_hub
from proxy.rules import Finding
from proxy.targets import load
from tests.sdk import run_node_script
from tests.servers import HUBSCOPE, REPO, start_proxy

SESSION = "targets-sdk"
SENDS = [
    "apple a && !b",
    "template (a || b) && c",
    "fcmv1 (a || b) && c",
    "windows a",
    "gcm broadcast",
    "gcm c && a",
    "template welcome",
    "apple 21 tags",
]
"""The sends of `tests/node/targets_calls.mjs`, in order."""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    db = tmp_path_factory.mktemp("targets") / "sdk.db"

    async def record() -> list[dict[str, Any]]:
        hub = await start_hub(HubSettings(hubs=frozenset({"sdkhub"})))
        proxy = await start_proxy(hub.url, db, session=SESSION)
        try:
            cs = hub.connection_string().replace(hub.url, f"http://127.0.0.1:{proxy.port}")
            env = {
                **os.environ,
                "HUBSCOPE_CS": cs,
                "HUBSCOPE_HUB": "sdkhub",
                "HUBSCOPE_INSECURE": "1",
            }
            return await run_node_script("targets_calls.mjs", env)
        finally:
            await serve.stop([proxy])
            await hub.stop()

    results = asyncio.run(record())
    return db, {r["call"]: r for r in results}


def targets(db: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(
        cli, ["targets", "--db", str(db), "--session", SESSION, "--output", "json", *args]
    )
    return result.exit_code, json.loads(result.output)


@contextmanager
def opened(path: Path) -> Iterator[Database]:
    db = store.connect(path, readonly=True)
    try:
        yield db
    finally:
        db.conn.close()


def findings(path: Path, rule: str) -> list[str]:
    """The exchanges the audit flags with `rule`."""
    with opened(path) as db:
        found: list[Finding] = []
        audit.run(db, SESSION, on_finding=found.append)
        return [f.exchange_id for f in found if f.rule == rule]


def sends_recorded(path: Path) -> list[dict[str, Any]]:
    """Each recorded send: its exchange, and its target as the SDK put it on the wire."""
    with opened(path) as db:
        rows = list(
            db.query(
                "select id, started_at, status, request_headers from exchanges"
                " where operation = 'send' order by started_at"
            )
        )
    out = []
    for row in rows:
        headers = {k.lower(): v for k, v in json.loads(row["request_headers"])}
        args = ["--at", repr(row["started_at"])]
        args += ["--format", headers["servicebusnotification-format"]]
        if "servicebusnotification-tags" in headers:
            args += ["--expr", headers["servicebusnotification-tags"]]
        out.append({**row, "args": args, "tags": headers.get("servicebusnotification-tags")})
    assert len(out) == len(SENDS)
    return out


def registration_ids(calls: dict[str, Any]) -> dict[str, str]:
    return {
        name.split(" ", 1)[1]: call["result"]["registrationId"]
        for name, call in calls.items()
        if name.startswith("createRegistration ")
    }


def test_the_sdk_calls_went_through(recorded: tuple[Path, dict[str, Any]]) -> None:
    _, calls = recorded
    refusal = "sendNotification apple 21 tags"
    failed = {n: c for n, c in calls.items() if not c["ok"] and n != refusal}
    assert not failed, failed
    refused = calls[refusal]
    assert refused["ok"] is False and refused["status"] == 400


@pytest.mark.parametrize("index", range(len(SENDS) - 1), ids=SENDS[:-1])
def test_targets_lists_what_the_hubs_debug_send_names(
    recorded: tuple[Path, dict[str, Any]], index: int
) -> None:
    db, calls = recorded
    results = calls[f"sendNotification {SENDS[index]}"]["result"]["results"]
    hub_named = [r["registrationId"] for r in results]
    assert len(hub_named) < 10
    code, report = targets(db, *sends_recorded(db)[index]["args"])
    assert code == 0, report
    assert [r["registration_id"] for r in report["reached"]] == hub_named


EXPECTED = {
    "apple a && !b": {("registration", "appleAC"), ("installation", "inst-apns native")},
    "template (a || b) && c": {
        ("registration", "appleTemplateAC"),
        ("installation", "inst-apns template 'promo'"),
    },
    "fcmv1 (a || b) && c": {("registration", "fcmBC")},
    "windows a": {("registration", "wnsA")},
    "gcm broadcast": set(),
    "gcm c && a": {("registration", "gcmABC")},
    "template welcome": {("installation", "inst-fcm template 'welcome'")},
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_send_reaches_what_the_scenario_means(
    recorded: tuple[Path, dict[str, Any]], name: str
) -> None:
    db, calls = recorded
    names = {rid: label for label, rid in registration_ids(calls).items()}
    _, report = targets(db, *sends_recorded(db)[SENDS.index(name)]["args"])
    reached = {
        ("registration", names[r["id"]]) if r["kind"] == "registration"
        else ("installation", f"{r['id']} {r['registration']}")
        for r in report["reached"]
    }  # fmt: skip
    assert reached == EXPECTED[name]


WHY_LEFT_OUT = {
    "appleAB": ("tags", "`!b` is false (has 'b', which a ! excludes)"),
    "fcmBC": ("format", "format apple reaches apns registrations only; this one is fcmv1"),
    "wnsA": ("format", "this one is wns (format windows)"),
    "gcmABC": ("format", "this one is gcm (format gcm)"),
    "appleTemplateAC": ("format", "not template"),
    "appleGone": ("exists", "no registration left: deleted at"),
}


def test_explain_gives_the_reason_for_each_device_left_out(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    db, calls = recorded
    ids = registration_ids(calls)
    base = sends_recorded(db)[0]["args"]
    assert base[2:] == ["--format", "apple", "--expr", "a && !b"]
    for label, (check, words) in WHY_LEFT_OUT.items():
        _, report = targets(db, *base, "--explain", ids[label])
        [why] = report["explain"]["registrations"]
        assert why["reached"] is False and why["check"] == check and words in why["reason"], label
        failed = [s for s in why["steps"] if not s["ok"]]
        assert failed[0]["check"] == check
    _, report = targets(db, *base, "--explain", "inst-fcm")
    assert [(r["registration"], r["check"]) for r in report["explain"]["registrations"]] == [
        ("native", "format"),
        ("template 'welcome'", "format"),
    ]
    welcome = sends_recorded(db)[SENDS.index("template welcome")]["args"]
    _, report = targets(db, *welcome, "--explain", "inst-apns")
    [native, promo] = report["explain"]["registrations"]
    assert native["check"] == "format" and promo["check"] == "tags"
    assert (
        "no template named 'welcome' on this installation (templates: 'promo')" in (promo["reason"])
    )


def test_the_refused_send_is_refused_by_targets_and_flagged_by_the_audit(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    db, _ = recorded
    refused = sends_recorded(db)[-1]
    code, report = targets(db, *refused["args"])
    assert code == 1 and "21 tags; at most 20" in report["refused"]
    assert refused["status"] == 400
    assert findings(db, "send.tag-expression") == [refused["id"]]


def test_the_sdks_broadcast_debug_send_targets_the_tag_undefined(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    db, calls = recorded
    broadcast = sends_recorded(db)[SENDS.index("gcm broadcast")]
    assert broadcast["tags"] == "undefined"
    assert calls["sendNotification gcm broadcast"]["result"]["results"] == []
    _, report = targets(db, *broadcast["args"], "--explain", "gcm-abc")
    [why] = report["explain"]["registrations"]
    assert why["reason"] == "tag missing: 'undefined'"
    assert findings(db, "send.tags-undefined") == [broadcast["id"]]


def test_the_recorded_debug_answers_match_what_targets_computes(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    db, _ = recorded
    with opened(db) as connection:
        recording = load(connection, SESSION)
    debug = [s for s in recording.sends if s.send.outcome is not None]
    assert len(debug) == len(SENDS) - 1 and any(not s.send.outcome for s in debug)
    for send in debug:
        ours = [v.registration.registration_id for v in recording.reach_of(send)
                if v.reached and v.registration]  # fmt: skip
        assert ours == [r.registration_id for r in send.send.outcome or ()]


def test_the_installed_command_answers_too(recorded: tuple[Path, dict[str, Any]]) -> None:
    db, _ = recorded
    send = sends_recorded(db)[SENDS.index("windows a")]
    done = subprocess.run(
        [*HUBSCOPE, "targets", "--db", str(db), *send["args"]],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Reached: 1 registrations on 1 devices" in done.stdout
