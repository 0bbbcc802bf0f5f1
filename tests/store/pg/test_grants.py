"""The README's roles for a shared store: a writer that migrates and records, a reader that
can view and audit but not write — its statements run exactly as printed."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from pathlib import Path
from urllib.request import Request, urlopen

import psycopg
import pytest
from click.testing import CliRunner

from proxy.cli import cli
from tests.postgres import PostgresServer
from tests.servers import HUBSCOPE, REPO, free_port, wait_until_responds
from tests.store.test_push import recorded


def readme_grants() -> list[str]:
    staging = (REPO / "README.md").read_text().split("## Staging", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```plpgsql\n(.*?)```", staging, re.S)
    return [line.strip().rstrip(";") for line in block.splitlines() if line.strip()]


def test_the_readme_roles_let_proxies_write_and_the_viewer_only_read(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    name = postgres_server.create_database()
    url = postgres_server.url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        for role in ("hubscope_writer", "hubscope_reader"):
            conn.execute(f"drop role if exists {role}")
        for statement in readme_grants():
            conn.execute(statement.replace("database hubscope", f"database {name}"))
    host = f"{postgres_server.host}:{postgres_server.port}/{name}"
    writer = f"postgresql://hubscope_writer:writer-secret@{host}"
    reader = f"postgresql://hubscope_reader:reader-secret@{host}"
    try:
        local = recorded(tmp_path / "laptop.db", "staging", 3)
        pushed = CliRunner().invoke(cli, ["push", "--db", str(local), "--to", writer])
        assert pushed.exit_code == 0, pushed.output
        audit = CliRunner().invoke(
            cli, ["audit", "--db", reader, "--session", "staging", "--fail-on", "error"]
        )
        assert audit.exit_code == 0 and "3 exchanges" in audit.output, audit.output
        with psycopg.connect(reader) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("insert into sessions (name) values ('x')")
        port, token = free_port(), "a-token-of-the-team-0123456789"
        view = subprocess.Popen(
            [*HUBSCOPE, "view", "--db", reader, "--listen", f"127.0.0.1:{port}", "--token", token],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}/api/exchanges?session=staging"
            wait_until_responds(url, proc=view, timeout=120)  # a loaded machine starts slowly
            request = Request(url, headers={"Authorization": f"Bearer {token}"})
            with urlopen(request, timeout=30) as answer:
                assert len(json.load(answer)["items"]) == 3
        finally:
            view.send_signal(signal.SIGTERM)
            output = view.communicate(timeout=60)[0].decode()
        assert "reader-secret" not in output and "hubscope_reader:***@" in output
    finally:
        postgres_server.drop_database(name)
        with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
            for role in ("hubscope_writer", "hubscope_reader"):
                conn.execute(f"drop owned by {role} cascade")
                conn.execute(f"drop role {role}")
