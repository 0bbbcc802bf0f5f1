"""`hubscope decode`: a saved body, and re-decoding an old database in place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from proxy import store
from proxy.cli import cli
from proxy.exchange import Exchange, Message, new_id
from proxy.recording.recorder import Recorder
from tests.corpus import JAVA_FIXTURES

ENTRY = (
    b'<entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml">'
    b'<GcmRegistrationDescription xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect">'
    b"<Tags>user:42,lang:en</Tags><GcmRegistrationId>tok-1</GcmRegistrationId>"
    b"</GcmRegistrationDescription></content></entry>"
)


def test_decode_a_saved_body() -> None:
    result = CliRunner().invoke(cli, ["decode", str(JAVA_FIXTURES / "InstallationBrowser")])
    assert result.exit_code == 0, result.output
    decoded = json.loads(result.output)
    [device] = decoded["devices"]
    assert (decoded["format"], device["kind"], device["platform"]) == (
        "json",
        "installation",
        "browser",
    )
    assert device["handle"] == "foo"
    assert dict(device["extra"])["P256DH"] == "bar"


def test_a_body_that_does_not_decode_exits_1_with_the_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<entry><unclosed></entry>")
    result = CliRunner().invoke(cli, ["decode", str(bad)])
    assert result.exit_code == 1
    reason = json.loads(result.stdout)["decode_error"]
    assert "failed to parse" in reason
    assert result.stderr == f"hubscope decode: {bad} does not decode: {reason}\n"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"", "the body is empty"),
        (b"hello, hub", "not an Atom, JSON or error body (no XML or JSON)"),
        (b"<html><body>502</body></html>",
         "not an Atom, JSON or error body (XML document 'html' is neither Atom nor an error)"),
        (b'{"hello": "world"}', "JSON, but neither an installation nor a JSON Patch"),
    ],
)  # fmt: skip
def test_what_is_no_notification_hubs_body_exits_1(tmp_path: Path, body: bytes, why: str) -> None:
    path = tmp_path / "body"
    path.write_bytes(body)
    result = CliRunner().invoke(cli, ["decode", str(path)])
    assert (result.exit_code, result.stderr) == (
        1,
        f"hubscope decode: {path} does not decode: {why}\n",
    )
    assert json.loads(result.stdout)["devices"] == []


def test_dash_reads_the_body_from_stdin() -> None:
    result = CliRunner().invoke(cli, ["decode", "-", "--response"], input=ENTRY)
    assert result.exit_code == 0, result.output
    [device] = json.loads(result.stdout)["devices"]
    assert (device["platform"], device["handle"]) == ("gcm", "tok-1")
    failed = CliRunner().invoke(cli, ["decode", "-"], input=b"nope")
    assert failed.exit_code == 1
    assert failed.stderr.startswith("hubscope decode: stdin does not decode: ")
    missing = CliRunner().invoke(cli, ["decode", "no-such-file.xml"])
    assert missing.exit_code == 2 and "no-such-file.xml: no such file" in missing.stderr


def test_redecode_rebuilds_devices_and_tags(tmp_path: Path) -> None:
    db_path = tmp_path / "old.db"
    recorder = Recorder(db_path, session="old")
    recorder.start()
    recorder.submit(
        Exchange(
            id=new_id(),
            session="old",
            started_at=1.0,
            duration_ms=1.0,
            method="POST",
            url="https://ns.servicebus.windows.net/hub/registrations?api-version=2020-06",
            request=Message(headers=(("Content-Type", "application/atom+xml"),), body=ENTRY),
            status=200,
            response=Message(headers=(), body=b""),
        )
    )
    recorder.close()
    db = store.connect(db_path)
    db.execute("delete from device_tags")
    db.execute("delete from devices")
    db.execute("update exchanges set operation = null")
    db.conn.commit()
    result = CliRunner().invoke(cli, ["decode", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert "re-decoded 1 exchanges" in result.output
    db = store.connect(db_path, readonly=True)
    [device] = db.query("select * from devices")
    assert (device["platform"], device["handle"], device["tags"]) == (
        "gcm",
        "tok-1",
        "user:42,lang:en",
    )
    tags = {r["tag"] for r in db.query("select tag from device_tags")}
    assert tags == {"user:42", "lang:en"}
    assert db.execute("select operation from exchanges").fetchone()[0] == "create_registration"


def test_an_unknown_session_is_refused_like_audit_does(tmp_path: Path) -> None:
    db_path = tmp_path / "old.db"
    recorder = Recorder(db_path, session="old")
    recorder.start()
    recorder.close()
    for command in ("decode", "audit"):
        result = CliRunner().invoke(cli, [command, "--db", str(db_path), "--session", "nope"])
        assert (result.exit_code, result.stderr) == (
            2,
            f"Error: no session 'nope' in {db_path}; its sessions: old\n",
        )
