"""`hubscope` imports a command's modules only when it runs: an audit of an SQLite file
starts without the proxy's, the hub's, the viewer's or PostgreSQL's imports."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from proxy.cli import COMMANDS, cli, commands
from tests.servers import REPO

LOADED = """
import sys
from proxy.cli import cli
try:
    cli({args!r}, standalone_mode=False)
except SystemExit:
    pass
print("loaded:", *sorted(m for m in {heavy!r} if m in sys.modules))
"""
HEAVY = ("psycopg", "aiohttp", "viewer", "proxy.localhub", "proxy.capture", "proxy.replay")


def _loaded(*args: str) -> set[str]:
    script = LOADED.format(args=list(args), heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120,
        check=True,
    )  # fmt: skip
    last = done.stdout.rsplit("loaded:", 1)[1]  # after the command's own output
    return set(last.split())


def test_an_audit_starts_without_the_other_commands_imports() -> None:
    assert _loaded("audit", "--help") == set()
    assert _loaded("proxy", "--help") >= {"aiohttp", "proxy.capture"}, "the proxy's are loaded"


def test_every_command_is_listed_and_loads_under_its_name() -> None:
    listed = CliRunner().invoke(cli, ["--help"]).output
    assert set(commands()) == set(COMMANDS)
    for name, command in commands().items():
        assert command.name == name and f"\n  {name} " in listed
    assert CliRunner().invoke(cli, ["nosuch"]).exit_code == 2


def test_postgresql_is_imported_only_for_a_postgresql_url() -> None:
    script = (
        "import sys\nfrom proxy.store import location, pg\n"
        "assert not location.is_postgres('x.db') and 'psycopg' not in sys.modules\n"
        "assert pg.PgDatabase.__name__ == 'PgDatabase' and 'psycopg' in sys.modules\n"
        "assert pg.schema.NotReachable and pg.bulk.__name__ == 'proxy.store.pg.bulk'\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=REPO, check=True, timeout=120)
