"""`hubscope curl`: with the key, the printed command runs as it is against `hubscope hub`
and gets the same answer as the original; without it, it says how to get one."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

import click
import pytest
from click.testing import CliRunner

from proxy.cli import cli
from proxy.cli.replay import signer_and_target
from proxy.exchange import Message
from proxy.replay.compare import compare
from proxy.replay.load import decode
from proxy.store import exchange_from_row
from tests.exports import Capture, capture_fixture, rows  # noqa: F401
from tests.replaying import java_sr


async def curl_for(capture: Capture, exchange_id: str, *extra: str) -> Any:
    return await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["curl", exchange_id[-10:], "--db", str(capture.db), *extra],  # its random end
        catch_exceptions=False,
    )


async def run(command: str) -> tuple[int, str, bytes]:
    """Run the command with bash; the status, raw headers and body of curl -i's answer."""
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    head, _, body = out.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head.decode("latin-1"), body


async def test_the_signed_command_gets_the_same_answer_from_the_hub(capture: Capture) -> None:
    stored = rows(capture.db, capture.session)
    # the installation was deleted at the end of the session: create it again, then read it
    for index in (6, 7, 0):
        original = exchange_from_row(stored[index])
        result = await curl_for(
            capture, original.id, "--connection-string", capture.connection_string,
            "--target", capture.hub.url,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        command = result.stdout
        assert "<SAS token>" not in command and "[redacted]" not in command
        assert f"signed for {capture.hub.url}, valid until" in result.stderr
        status, head, body = await run(command)
        assert status == original.status
        headers = tuple(
            (k.strip(), v.strip())
            for k, _, v in (line.partition(":") for line in head.split("\r\n")[1:])
        )
        again = decode(replace(original, response=Message(headers=headers, body=body)))
        verdict = compare(
            decode(original).operation.name, (original.status, decode(original)),
            (status, again), {},
        )  # fmt: skip
        assert verdict.differences == (), verdict
    java = exchange_from_row(stored[6])
    sent = (await curl_for(capture, java.id, "--connection-string", capture.connection_string,
                           "--target", capture.hub.url)).stdout  # fmt: skip
    sr = re.search(r"sr=([^&]+)&", sent)
    assert sr is not None
    url = f"{capture.hub.url}{java.url.split(str(capture.hub.port), 1)[1]}"
    assert unquote(sr.group(1)) == unquote(java_sr(url)), "the Java client's sr shape is kept"


async def test_without_a_key_it_prints_a_placeholder_and_how_to_get_one(capture: Capture) -> None:
    first = rows(capture.db, capture.session)[1]
    result = await curl_for(capture, first["id"])
    assert result.exit_code == 0
    assert "Authorization: <SAS token>" in result.stdout
    assert "--connection-string" in result.stderr and "Access Policies" in result.stderr
    missing = await curl_for(capture, "0123456789abcdef")
    assert missing.exit_code == 2 and "no exchange" in missing.output


def test_the_target_is_the_endpoint_unless_given_and_must_be_http() -> None:
    """What curl, resend, replay and view all send to (`signer_and_target`)."""
    cs = "Endpoint=sb://myns.servicebus.windows.net/;SharedAccessKeyName=Full;SharedAccessKey=abc="
    signer, url = signer_and_target(cs, None)
    assert (signer.keys(), url) == ({"Full": "abc="}, "https://myns.servicebus.windows.net")
    assert signer_and_target(cs, "http://127.0.0.1:9/")[1] == "http://127.0.0.1:9"
    with pytest.raises(click.BadParameter, match="must start with https:// or http://") as bad:
        signer_and_target(cs, "ftp://127.0.0.1:9")
    assert bad.value.param_hint == "--target"
    with pytest.raises(click.BadParameter, match="needs SharedAccessKeyName"):
        signer_and_target("Endpoint=sb://myns.servicebus.windows.net/", "http://127.0.0.1:9")
