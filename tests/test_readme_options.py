"""Every option of `hubscope proxy` and `hubscope hub` is in the README, where a reader looks.

`proxy` documents its options in a table (`| `--opt …` | default | meaning |`), `hub` in its
synopsis; an option added to the command and not there fails here (as `--init` once did).
"""

from __future__ import annotations

import re

import click
import pytest

from proxy.cli import commands
from tests.servers import REPO

README = (REPO / "README.md").read_text()


def section(command: str) -> str:
    start = README.index(f"### `hubscope {command}`")
    return README[start : README.index("\n### ", start + 1)]


def long_options(command: str) -> list[str]:
    found = commands()[command]
    return sorted(
        name
        for param in found.params
        if isinstance(param, click.Option)
        for name in param.opts
        if name.startswith("--") and name != "--help"
    )


@pytest.mark.parametrize("option", long_options("proxy"))
def test_the_proxy_table_has_every_option(option: str) -> None:
    cells = re.findall(r"^\| ((?:[^|\\]|\\.)+) \|", section("proxy"), re.MULTILINE)
    names = {n.split()[0] for cell in cells for n in re.findall(r"`([^`]+)`", cell)}
    assert option in names


@pytest.mark.parametrize("option", long_options("hub"))
def test_the_hub_synopsis_has_every_option(option: str) -> None:
    """`--tls-listen` and `--tls-host` are told beside `[--tls]`, `--verbose` is `[-v]`."""
    synopsis = section("hub").split("```sh\n", 1)[1].split("```", 1)[0]
    shown = {"--tls-listen": "--tls", "--tls-host": "--tls", "--verbose": "-v"}.get(option, option)
    assert re.search(rf"\[{re.escape(shown)}[\] ]", synopsis), option
    assert f"`{option}`" in section("hub") or shown != "--tls"
