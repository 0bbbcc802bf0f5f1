"""`hubscope export`: which exchanges (session, the viewer's filters in either spelling), in
which format, where — and clear errors."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from tests.exports import Capture, capture_both_fixture, capture_fixture, export, rows  # noqa: F401
from tests.replaying import invoke


def _ops(text: str) -> list[tuple[str, int | None]]:
    return [(x["operation"], x["status"]) for x in map(json.loads, text.splitlines())]


async def test_filters_select_like_the_viewer_list(capture_both: Capture) -> None:
    capture = capture_both
    stored = rows(capture.db, capture.session)
    wanted = [(r["operation"], r["status"]) for r in stored if r["method"] == "GET"]
    for expression in ("method=GET", "method:GET", "session:orig and method:GET"):
        result = await export(capture.db, "--format", "jsonl", "--filter", expression)
        assert _ops(result.stdout) == wanted, expression
    tagged = await export(capture.db, "--format", "jsonl", "--filter", "tag:patched")
    assert _ops(tagged.stdout) == [("read_installation", 200)]  # after the PATCH added it
    everything = await export(capture.db, "--format", "jsonl", "--session", capture.session)
    assert len(everything.stdout.splitlines()) == len(stored)


async def test_output_file_format_from_suffix_and_permissions(
    capture: Capture, tmp_path: Path
) -> None:
    out = tmp_path / "x.ndjson"
    result = await export(capture.db, "-o", str(out), "--filter", "operation=read_installation")
    assert "→ " + str(out) + " (JSON Lines)" in result.stderr
    operations = [json.loads(line)["operation"] for line in out.read_text().splitlines()]
    assert operations == ["read_installation", "read_installation"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".x.")] == []


async def test_usage_errors(capture_both: Capture) -> None:
    capture = capture_both
    for args, message in [
        (["--session", "nope"], "no session named 'nope'"),
        (["--filter", "colour:red"], "unknown name 'colour'"),
        (["--filter", "status:7xx"], "status: expected one of"),
        (["--mask", "phones"], "--mask takes handles, tags, ids or all"),
    ]:
        result = await invoke("export", "--db", str(capture.db), *args)
        assert result.exit_code == 2 and message in result.output, (args, result.output)
