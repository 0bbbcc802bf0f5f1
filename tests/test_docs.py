"""Every command has help and is documented in the README, with every table it creates."""

from __future__ import annotations

import re

import pytest

from proxy import store
from proxy.cli import cli
from tests.servers import REPO

README = (REPO / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_commands_are_documented(name: str) -> None:
    assert f"### `hubscope {name}`" in README


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_commands_have_help(name: str) -> None:
    assert cli.commands[name].help, f"hubscope {name} has no help"


def test_readme_starts_with_make_run_and_make_test() -> None:
    first_block = README.split("```")[1]
    assert re.findall(r"make \w+", first_block)[:2] == ["make run", "make test"]


def test_every_table_is_documented(tmp_path) -> None:
    db = store.connect(tmp_path / "t.db")
    tables = [t for t in db.table_names() if not t.startswith("_") and "_fts" not in t]
    for table in tables:
        assert f"### `{table}`" in README, f"table {table} is not in the README"
