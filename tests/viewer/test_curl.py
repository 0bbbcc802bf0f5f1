"""Copy as curl is safe to paste: whatever the recorded request holds, running the copied
command runs curl with exactly the recorded parts, and nothing else.

The command is run by a real bash with `curl` replaced by a stub that writes down the
arguments it got, so the test sees what the shell would hand to curl.
"""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from proxy.exchange import Exchange, Message
from viewer import sample
from viewer.app import make_app
from viewer.curl import as_curl

T0 = 1_795_000_000.0

STUB = """#!/usr/bin/env python3
import sys
with open(sys.argv[0] + ".args", "wb") as out:
    out.write(b"\\0".join(a.encode("utf-8", "surrogateescape") for a in sys.argv[1:]))
"""


def run_pasted(command: str, tmp_path: Path) -> list[bytes]:
    """Run `command` as a user who pasted it would (bash, in `tmp_path`); curl's argv."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    stub = bin_dir / "curl"
    stub.write_text(STUB)
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return Path(str(stub) + ".args").read_bytes().split(b"\0")


def recorded(method: str = "POST", body: bytes = b"", **changes: Any) -> Exchange:
    ex = sample.exchange("POST", "registrations", 201, body=body or b"<entry/>",
                         content_type=sample.ATOM, session="s", at=T0)  # fmt: skip
    return replace(ex, method=method, **changes)


def test_placeholders_replace_the_token_and_signature() -> None:
    ex = replace(recorded(), url=f"{sample.NS}/h/registrations?sig=abc&x=1")
    command = as_curl(ex)
    assert command.startswith("curl -i -X POST --url 'https://contoso.servicebus.windows.net/h/")
    assert "sig=%3CSAS%20signature%3E" in command and "abc" not in command
    assert "-H 'Authorization: <SAS token>'" in command
    assert "--data-raw $'<entry/>'" in command


@pytest.mark.parametrize(
    "method",
    ["GET; touch pwned #", "GET$(touch pwned)", "GET`touch pwned`", "GET'; touch pwned; '",
     "GET\ntouch pwned", "-o pwned"],
)  # fmt: skip
def test_a_method_that_hides_a_command_stays_one_argument(method: str, tmp_path: Path) -> None:
    """Issue 17, row 5: the method was pasted unquoted and ran a shell command."""
    args = run_pasted(as_curl(recorded(method)), tmp_path)
    assert not (tmp_path / "pwned").exists()
    assert args[:3] == [b"-i", b"-X", method.encode()]
    assert args[3:5] == [b"--url", f"{sample.NS}/myhub/registrations?api-version=2015-01".encode()]


@pytest.mark.parametrize(
    "body",
    [b"@/etc/hostname", b"@request.bin", b"line one\nline 'two' $(touch pwned) `x` !! \\ \"q\"",
     "caf\u00e9 \u202e gnp.exe".encode(), b"\xff\xfe not utf-8 \x80", b"-d @/etc/passwd"],
)  # fmt: skip
def test_the_body_reaches_curl_as_recorded_and_never_names_a_file(
    body: bytes, tmp_path: Path
) -> None:
    """Issue 17, row 6: a body starting with `@` became `--data-binary @/etc/hostname`."""
    command = as_curl(recorded(body=body))
    args = run_pasted(command, tmp_path)
    assert not (tmp_path / "pwned").exists()
    assert args[-2:] == [b"--data-raw", body], "--data-raw never reads a file for an @"
    assert "--data-binary" not in command


def test_headers_and_url_with_control_characters_stay_single_arguments(tmp_path: Path) -> None:
    headers = (("X-Evil", "a'; touch pwned; echo '\n-H"), ("Content-Type", "text/plain"))
    ex = replace(
        recorded(),
        url="https://h/x?q=$(touch pwned)&r=`id`",
        request=Message(headers=headers, body=b"x"),
    )
    args = run_pasted(as_curl(ex), tmp_path)
    assert not (tmp_path / "pwned").exists()
    assert args == [
        b"-i", b"-X", b"POST", b"--url", b"https://h/x?q=$(touch pwned)&r=`id`",
        b"-H", b"X-Evil: a'; touch pwned; echo '\n-H", b"-H", b"Content-Type: text/plain",
        b"--data-raw", b"x",
    ]  # fmt: skip


def test_a_body_with_nul_bytes_is_sent_from_a_file_named_by_us(tmp_path: Path) -> None:
    command = as_curl(recorded(body=b"a\x00b"))
    assert command.startswith("# the body holds NUL bytes")
    assert run_pasted(command, tmp_path)[-2:] == [b"--data-binary", b"@request.bin"]


async def test_the_api_serves_the_safe_command(aiohttp_client, tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    sample.record(db, [recorded("GET; touch pwned #", body=b"@/etc/hostname")], kind="import")
    client: TestClient = await aiohttp_client(make_app(db))
    (item,) = (await (await client.get("/api/exchanges")).json())["items"]
    detail = await (await client.get(f"/api/exchanges/{item['id']}")).json()
    args = run_pasted(detail["curl"], tmp_path)
    assert args[2] == b"GET; touch pwned #" and args[-1] == b"@/etc/hostname"
    assert not (tmp_path / "pwned").exists()
