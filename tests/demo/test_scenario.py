"""`make run`'s demo, headless: it brings everything up, records the scenario and stops."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from proxy import store
from tests.servers import REPO


def test_headless_demo_records_the_scenario(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "proxy",
            "demo",
            "--headless",
            "--db",
            str(db),
            "--hub-port",
            "0",
            "--proxy-port",
            "0",
            "--viewer-port",
            "0",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "calls recorded in" in result.stdout
    assert f"hubscope view --db {db}" in result.stdout  # the servers are gone: no live URLs
    rows = store.connect(db, readonly=True)
    ops = {r["operation"] for r in rows.query("select distinct operation from exchanges")}
    assert {
        "create_registration",
        "create_registration_id",
        "create_or_update_registration",
        "update_registration",
        "read_registration",
        "list_registrations_by_tag",
        "list_registrations_by_channel",
        "create_or_overwrite_installation",
        "read_installation",
        "patch_installation",
        "delete_installation",
        "send",
        "delete_registration",
    } <= ops
    statuses = [r["status"] for r in rows.query("select status from exchanges")]
    assert statuses.count(401) == 1, "the expired token"
    verdicts = [
        (r["status"], r["sas_verdict"], r["error_detail"])
        for r in rows.query("select status, sas_verdict, error_detail from exchanges")
    ]
    resigned = [v for v in verdicts if str(v[1]).startswith("valid; re-signed by hubscope")]
    assert len(resigned) == len(verdicts) - 1, "the app signs for localhost, the hub is 127.0.0.1"
    [(_, verdict, detail)] = [v for v in verdicts if v[0] == 401]
    assert verdict == "valid" and str(detail).startswith("ExpiredToken: The token is expired.")
    assert 412 in statuses and 201 in statuses
    platforms = {r["platform"] for r in rows.query("select distinct platform from devices")}
    assert platforms >= {"apns", "wns", "mpns", "gcm", "fcmv1", "adm", "baidu", "browser", "xiaomi"}
    duplicates = rows.execute(
        "select count(*) from devices d join exchanges e on e.id = d.exchange_id "
        "where d.direction = 'request' and e.operation = 'create_registration' "
        "and d.handle = ?",
        ["62BCD3A3A6F5B6E8C0C5A1F0E5D8B3A2C4F1E7D9B0A3C5E8F2D4B6A8C0E2F4A6"[::-1]],
    ).fetchone()[0]
    assert duplicates == 2
