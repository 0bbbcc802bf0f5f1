"""`hubscope hub`: options, banner, and a real process that serves what its banner says."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest
from click.testing import CliRunner

from proxy import store
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


@dataclass
class Served:
    banner: str
    port: int
    key: str
    output: str = ""


@asynccontextmanager
async def hub_process(*args: str) -> AsyncIterator[Served]:
    """`hubscope hub ARGS` as a real process: its banner read, then stopped with Ctrl-C
    (exit status 0 checked, everything it printed in `output`)."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "proxy", "hub", "--listen", f"127.0.0.1:{port}", *args,
        cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        banner = ""
        while "Listen-only" not in banner or banner.count("Endpoint=") < 2:
            line = await asyncio.wait_for(proc.stdout.readline(), STARTUP)
            assert line, f"hub exited early: {banner}"
            banner += line.decode()
        full = parse_connection_string(re.findall(r"Endpoint=\S+", banner)[0])
        served = Served(banner, port, full.key or "")
        yield served
        proc.send_signal(signal.SIGINT)
        served.output = banner + (await asyncio.wait_for(proc.communicate(), 30))[0].decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, served.output


async def register(served: Served, method: str, path: str, body: str = "") -> tuple[int, str]:
    """One call to the served hub `myhub` with the banner's full-rights key."""
    base = f"http://127.0.0.1:{served.port}/myhub"
    token = make_token(base, FULL_RULE, served.key)
    headers = {"Authorization": token, "Content-Type": ATOM_ENTRY}
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        url = f"{base}{path}?api-version=2020-06"
        async with session.request(method, url, data=body, headers=headers) as r:
            return r.status, await r.text()


async def test_the_process_serves_with_the_printed_connection_string(tmp_path: Path) -> None:
    async with hub_process("--db", str(tmp_path / "hub.db"), "--hub", "myhub") as served:
        strings = re.findall(r"Endpoint=\S+", served.banner)
        full = parse_connection_string(strings[0])
        assert full.endpoint == f"sb://127.0.0.1:{served.port}/"
        assert full.key_name == FULL_RULE and full.key
        assert parse_connection_string(strings[1]).key_name == LISTEN_RULE
        assert (await register(served, "POST", "/registrations", apple()))[0] == 200
        port = served.port
        other = make_token(f"http://127.0.0.1:{port}/otherhub", FULL_RULE, served.key)
        other_url = f"http://127.0.0.1:{port}/otherhub/registrations?api-version=2020-06"
        headers = {"Authorization": other, "Content-Type": ATOM_ENTRY}
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            async with session.post(other_url, data=apple(), headers=headers) as r:
                assert r.status == 404  # only the --hub names exist, like on a namespace
    assert (tmp_path / "hub.db").exists()


async def test_db_keeps_the_state_in_a_file_or_a_postgresql_database(
    new_store: Callable[[str], Path | str],
) -> None:
    """`--db` takes a file or a `postgresql://` URL; the URL's password is never printed."""
    where = str(new_store("hub"))
    secret = urlsplit(where).password
    async with hub_process("--db", where) as first:
        status, text = await register(first, "POST", "/registrations", apple(tags="kept"))
        assert status == 200
        created = re.search(r"<RegistrationId>([^<]+)<", text)
        assert created is not None
    async with hub_process("--db", where) as second:  # a new process, new keys: same state
        status, text = await register(second, "GET", f"/registrations/{created[1]}")
        assert status == 200 and "<Tags>kept</Tags>" in text
    shown = re.search(r"storage +(\S+)", first.output)
    assert shown is not None
    if secret:
        assert secret not in first.output + second.output
        assert shown[1] == where.replace(f":{secret}@", ":***@")
    else:
        assert shown[1] == where


def test_a_postgresql_recording_database_is_not_the_hubs(postgres_url: str) -> None:
    store.connect(postgres_url).close()  # what `hubscope proxy --db URL` leaves
    secret = urlsplit(postgres_url).password
    assert secret
    result = CliRunner().invoke(cli, ["hub", "--db", postgres_url, "--listen", "127.0.0.1:0"])
    assert result.exit_code == 2
    assert (
        "is not a hub state database (it is a hubscope recording database; give the hub "
        "a database of its own); pass --init" in result.output
    )
    assert secret not in result.output and ":***@" in result.output
    away = f"postgresql://hub:{secret}@127.0.0.1:{free_port()}/state"
    result = CliRunner().invoke(cli, ["hub", "--db", away, "--listen", "127.0.0.1:0"])
    assert result.exit_code == 2 and secret not in result.output


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
