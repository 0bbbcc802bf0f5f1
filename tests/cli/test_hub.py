"""`hubscope hub`: options, banner, and a real process that serves what its banner says."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner

from proxy.cli import cli
from proxy.cli.hub import print_banner
from proxy.localhub import FULL_RULE, LISTEN_RULE, HubSettings, Right
from proxy.sas import make_token, parse_connection_string
from tests.hubclient import ATOM_ENTRY, TIMEOUT, apple
from tests.servers import REPO, STARTUP, free_port

CS = "Endpoint=sb://x/;SharedAccessKeyName={name};SharedAccessKey=k3y="


def test_hub_command_has_help() -> None:
    result = CliRunner().invoke(cli, ["hub", "--help"])
    assert result.exit_code == 0
    for option in ("--listen", "--connection-string", "--db", "--hub", "--allow-unknown-hubs"):
        assert option in result.output


def test_settings_keep_a_given_rule_and_generate_the_rest() -> None:
    settings = HubSettings.build(connection_string=CS.format(name="MyRule"), hubs=("A", "b"))
    assert settings.keys["MyRule"] == "k3y="
    assert settings.rule("MyRule").rights == frozenset(Right)  # type: ignore[union-attr]
    assert {FULL_RULE, LISTEN_RULE} <= set(settings.keys)
    assert settings.hubs == frozenset({"a", "b"})
    assert HubSettings.build().hubs == frozenset({"myhub"}) == HubSettings().hubs
    assert not settings.serves("c") and HubSettings.build(allow_unknown_hubs=True).serves("c")
    listen = HubSettings.build(connection_string=CS.format(name=LISTEN_RULE))
    assert listen.keys[LISTEN_RULE] == "k3y="
    assert listen.rule(LISTEN_RULE).rights == {Right.LISTEN}  # type: ignore[union-attr]
    assert HubSettings().keys[FULL_RULE] != HubSettings().keys[FULL_RULE]


@pytest.mark.parametrize("bad", ["no-endpoint=1", "Endpoint=sb://x/;SharedAccessKeyName=n"])
def test_bad_connection_string_is_a_usage_error(bad: str) -> None:
    result = CliRunner().invoke(cli, ["hub", "--connection-string", bad])
    assert result.exit_code == 2 and "--connection-string" in result.output


async def test_the_process_serves_with_the_printed_connection_string(tmp_path: Path) -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "proxy", "hub", "--listen", f"127.0.0.1:{port}",
        "--db", str(tmp_path / "hub.db"), "--hub", "myhub",
        cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        banner = ""
        while "Listen-only" not in banner or banner.count("Endpoint=") < 2:
            line = await asyncio.wait_for(proc.stdout.readline(), STARTUP)
            assert line, f"hub exited early: {banner}"
            banner += line.decode()
        strings = re.findall(r"Endpoint=\S+", banner)
        full = parse_connection_string(strings[0])
        assert full.endpoint == f"sb://127.0.0.1:{port}/"
        assert full.key_name == FULL_RULE and full.key
        assert parse_connection_string(strings[1]).key_name == LISTEN_RULE
        token = make_token(f"http://127.0.0.1:{port}/myhub", FULL_RULE, full.key)
        url = f"http://127.0.0.1:{port}/myhub/registrations?api-version=2020-06"
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            headers = {"Authorization": token, "Content-Type": ATOM_ENTRY}
            async with session.post(url, data=apple(), headers=headers) as r:
                assert r.status == 200
            other = make_token(f"http://127.0.0.1:{port}/otherhub", FULL_RULE, full.key)
            other_url = url.replace("/myhub/", "/otherhub/")
            headers["Authorization"] = other
            async with session.post(other_url, data=apple(), headers=headers) as r:
                assert r.status == 404  # only the --hub names exist, like on a namespace
        proc.send_signal(signal.SIGINT)
        output = (await asyncio.wait_for(proc.communicate(), 30))[0].decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, output
    assert (tmp_path / "hub.db").exists()


def test_banner_never_echoes_a_given_key(capsys: pytest.CaptureFixture[str]) -> None:
    given = HubSettings.build(connection_string=CS.format(name="MyRule"))
    print_banner(given, "127.0.0.1", 8082)
    out = capsys.readouterr().out
    assert "k3y=" not in out
    assert "SharedAccessKeyName=MyRule;SharedAccessKey=<key from --connection-string>" in out
    assert given.keys[LISTEN_RULE] in out
    generated = HubSettings.build()
    print_banner(generated, "127.0.0.1", 8082)
    out = capsys.readouterr().out
    assert "hubs           myhub\n" in out
    assert f"Endpoint=sb://127.0.0.1:8082/;SharedAccessKeyName={FULL_RULE};" in out
    assert generated.keys[FULL_RULE] in out
