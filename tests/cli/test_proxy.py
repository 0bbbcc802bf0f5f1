"""`hubscope proxy` as a real process: banner, connection strings, SIGTERM under load."""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path

import aiohttp
import click
import pytest
from click.testing import CliRunner

from proxy import store
from proxy.cli import cli
from proxy.cli.proxy import upstream_from
from tests.conftest import Upstream
from tests.servers import free_port, spawn_hubscope, wait_for_port


def test_upstream_from_connection_string() -> None:
    cs = "Endpoint=sb://myns.servicebus.windows.net/;SharedAccessKeyName=Full;SharedAccessKey=abc="
    assert upstream_from(None, [cs]) == ("https://myns.servicebus.windows.net", {"Full": "abc="})
    assert upstream_from("http://127.0.0.1:9/", ()) == ("http://127.0.0.1:9", {})
    listen = cs.replace("Full", "Listen").replace("abc=", "def=")
    assert upstream_from("http://127.0.0.1:9", [cs, listen]) == (
        "http://127.0.0.1:9",
        {"Full": "abc=", "Listen": "def="},
    )
    other = cs.replace("myns", "otherns")
    with pytest.raises(click.UsageError, match="different endpoints"):
        upstream_from(None, [cs, other])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--forward", "--upstream", "http://x"], "--map-remote HOST=URL, not --upstream"),
        (["--forward", "--tls"], "--tls options are for reverse mode"),
        (["--upstream", "http://x", "--map-remote", "a=http://b"], "need --forward"),
        (["--forward", "--map-remote", "a.example"], "expected HOST=URL"),
        (["--forward", "--map-remote", "a.example=ftp://b"], "http:// or https://"),
    ],
)
def test_forward_option_mistakes_are_usage_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["proxy", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--body-cap", "1.5"], "'--body-cap': '1.5' is not a valid integer"),
        (["--timeout", "soon"], "'--timeout': 'soon' is not a valid float"),
        (["--max-upstream", "0"], "'--max-upstream': 0 is not in the range x>=1"),
        (["--workers", "0"], "'--workers': 0 is not in the range x>=1"),
    ],
)
def test_limit_options_refuse_a_value_of_the_wrong_kind(args: list[str], message: str) -> None:
    """No upstream given: a value let through ends in the usage error for that, not a proxy."""
    result = CliRunner().invoke(cli, ["proxy", "--no-record", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_limit_options_show_their_defaults_in_help() -> None:
    shown = " ".join(CliRunner().invoke(cli, ["proxy", "--help"]).output.split())
    for default in ("1048576", "67108864", "134217728", "60.0", "100; x>=1", "5.0", "1; x>=1"):
        assert f"[default: {default}]" in shown


def test_proxy_without_upstream_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["proxy"])
    assert result.exit_code == 2
    assert "--upstream URL or --connection-string" in result.output


async def test_sigterm_under_load_loses_no_answered_exchange(
    upstream: Upstream, tmp_path: Path
) -> None:
    db, port = tmp_path / "h.db", free_port()
    proc = await spawn_hubscope(
        "proxy",
        "--upstream",
        upstream.url,
        "--listen",
        f"127.0.0.1:{port}",
        "--db",
        str(db),
        "--session",
        "load",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        await wait_for_port(port, proc)
        answered: list[int] = []
        failed = 0

        async def worker(client: aiohttp.ClientSession, start: int) -> None:
            nonlocal failed
            for i in range(start, start + 400, 1):
                try:
                    async with client.put(
                        f"http://127.0.0.1:{port}/hub/installations/{i}", data=b"{}"
                    ) as resp:
                        await resp.read()
                        if resp.status == 200:
                            answered.append(i)
                except aiohttp.ClientError:
                    failed += 1
                    return

        async def terminate_when_busy() -> None:
            while len(answered) < 300:
                await asyncio.sleep(0.01)
            proc.send_signal(signal.SIGTERM)

        async with aiohttp.ClientSession() as client:
            await asyncio.gather(
                terminate_when_busy(), *(worker(client, n * 1000) for n in range(16))
            )
        output = (await asyncio.wait_for(proc.communicate(), 60))[0].decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, output
    assert "listening on http://127.0.0.1" in output
    assert failed > 0, "the load should still have been running when SIGTERM arrived"
    recorded = {
        int(r["path"].rsplit("/", 1)[1])
        for r in store.connect(db, readonly=True).query("select path from exchanges")
    }
    missing = set(answered) - recorded
    assert not missing, f"{len(missing)} answered exchanges were not recorded"
    assert len(answered) >= 300


@pytest.mark.parametrize("extra", [[], ["--no-record"]])
async def test_banner_says_where_it_listens_forwards_and_records(
    upstream: Upstream, tmp_path: Path, extra: list[str]
) -> None:
    output = await banner("--upstream", upstream.url, "--db", str(tmp_path / "b.db"), *extra)
    assert "listening on http://127.0.0.1:PORT/" in output
    assert f"forwarding to  {upstream.url}" in output
    assert ("recording      off" in output) == bool(extra)
    assert "Endpoint=http://127.0.0.1:PORT/" in output


async def banner(*args: str) -> str:
    """Start `hubscope proxy ARGS`, stop it with SIGINT, and return what it printed."""
    port = free_port()
    proc = await spawn_hubscope(
        "proxy", "--listen", f"127.0.0.1:{port}", *args, stdout=asyncio.subprocess.PIPE
    )
    try:
        await wait_for_port(port, proc)
        proc.send_signal(signal.SIGINT)
        output = (await asyncio.wait_for(proc.communicate(), 30))[0].decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, output
    return re.sub(rf":{port}(?!\d)", ":PORT", output)


async def test_reverse_banner_says_whether_tokens_will_be_re_signed(
    upstream: Upstream, tmp_path: Path
) -> None:
    without = await banner("--upstream", upstream.url, "--db", str(tmp_path / "a.db"))
    assert "127.0.0.1 accepts only tokens signed for 127.0.0.1" in without
    assert "401 InvalidAudience" in without
    assert "--connection-string" in without and "hubscope proxy --forward" in without
    key = "c2VjcmV0LWtleS1uZXZlci1wcmludGVk"
    cs = f"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Full;SharedAccessKey={key}"
    listen = cs.replace("Full", "Listen")
    with_keys = await banner(
        "--upstream",
        upstream.url,
        "--connection-string",
        cs,
        "--connection-string",
        listen,
        "--db",
        str(tmp_path / "b.db"),
    )
    assert "tokens the app signs for this proxy with Full, Listen are re-signed for 127.0.0.1" in (
        with_keys
    )
    assert "InvalidAudience" not in with_keys and key not in with_keys


async def test_forward_banner_says_what_is_intercepted_and_how_to_point_the_app(
    tmp_path: Path,
) -> None:
    output = await banner(
        "--forward",
        "--intercept",
        "staging.example.com",
        "--map-remote",
        "ns.servicebus.windows.net=http://127.0.0.1:8082",
        "--db",
        str(tmp_path / "f.db"),
    )
    assert "hubscope forward proxy listening on http://127.0.0.1:PORT/" in output
    assert (
        "intercepting   *.servicebus.windows.net, *.notificationhub.windows.net, "
        "staging.example.com" in output
    )
    assert "mapping        ns.servicebus.windows.net → http://127.0.0.1:8082" in output
    assert "other hosts    tunnelled blind, not recorded" in output
    assert "HTTPS_PROXY=http://127.0.0.1:PORT" in output
    assert "NODE_EXTRA_CA_CERTS=" in output and "hubscope-ca.pem" in output
