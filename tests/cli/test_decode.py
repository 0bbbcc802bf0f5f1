"""`hubscope decode`: a saved body, and re-decoding an old database in place."""

from __future__ import annotations

import json
from pathlib import Path

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
    assert "failed to parse" in json.loads(result.output)["decode_error"]


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
