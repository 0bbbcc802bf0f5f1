"""`hubscope push`: a laptop's capture into the team's PostgreSQL, twice adding nothing."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from proxy.cli import cli
from proxy.store.pg.url import password
from tests.store.test_push import counts, recorded


def push(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["push", *args])
    return result.exit_code, result.output


def test_push_then_audit_and_export_the_team_store(tmp_path: Path, postgres_url: str) -> None:
    local = recorded(tmp_path / "laptop.db", "laptop", 4)
    code, output = push("--db", str(local), "--to", postgres_url)
    assert code == 0, output
    assert "4 of 4 exchanges and 1 of 1 sessions added" in output
    secret = password(postgres_url)
    assert secret and secret not in output and ":***@" in output
    code, output = push("--db", str(local), "--to", postgres_url, "--session", "laptop")
    assert code == 0 and "0 of 4 exchanges and 0 of 1 sessions added" in output
    assert counts(postgres_url)["exchanges"] == 4
    audit = CliRunner().invoke(cli, ["audit", "--db", postgres_url, "--fail-on", "never"])
    assert audit.exit_code == 0 and "4 exchanges" in audit.output
    export = CliRunner().invoke(cli, ["export", "--db", postgres_url, "--format", "jsonl"])
    assert export.exit_code == 0 and len(export.stdout.splitlines()) == 4


def test_usage_errors_name_the_problem_without_the_password(
    tmp_path: Path, postgres_url: str
) -> None:
    local = recorded(tmp_path / "laptop.db", "laptop", 1)
    code, output = push("--db", str(local), "--to", postgres_url, "--session", "nope")
    assert code == 2 and "no session 'nope'" in output
    code, output = push("--db", str(local), "--to", str(local))
    assert code == 2 and "same store" in output
    code, output = push("--db", postgres_url, "--to", str(tmp_path / "copy.db"))
    assert code == 2 and "not a hubscope database" in output
    assert str(password(postgres_url)) not in output
    wrong = postgres_url.replace(str(password(postgres_url)), "not-the-password-42")
    code, output = push("--db", str(local), "--to", wrong)
    assert code == 2 and "password authentication failed" in output, output
    assert "not-the-password-42" not in output
