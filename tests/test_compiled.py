"""The compiled build of the writer's modules (`proxy/compiled.py`): used when current,
never when its sources changed, and never under `HUBSCOPE_PURE=1`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from proxy import compiled
from tests.outside import unavailable

WHERE = "import importlib; [print(importlib.import_module(m).__file__) for m in {modules!r}]"
STATE = "from proxy import compiled; print(compiled.STATE)"


def imported_from(root: Path | None = None, **env: str) -> tuple[list[str], str]:
    """Where a fresh interpreter imports each module of the build from, and its stderr."""
    run = subprocess.run(
        [sys.executable, "-c", WHERE.format(modules=compiled.MODULES)],
        capture_output=True, text=True, check=True, cwd=root or compiled.ROOT,
        env={**os.environ, "PYTHONPATH": str(root or compiled.ROOT), **env},
    )  # fmt: skip
    return run.stdout.split(), run.stderr


def copy_of_the_package(tmp_path: Path) -> Path:
    """The `proxy` package with its build, where a test may edit a source."""
    shutil.copytree(compiled.ROOT / "proxy", tmp_path / "proxy",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    return tmp_path


def require_the_build() -> None:
    if compiled.stale():
        unavailable("a current compiled build (`make` makes it)")


def test_a_current_build_is_what_every_module_of_it_is_imported_from() -> None:
    require_the_build()
    files, stderr = imported_from()
    assert len(files) == len(compiled.MODULES)
    assert all(file.endswith(".so") for file in files), files
    assert stderr == ""


def test_pure_imports_every_module_of_the_build_from_its_source() -> None:
    require_the_build()
    files, stderr = imported_from(HUBSCOPE_PURE="1")
    assert files == [str(compiled.source(m)) for m in compiled.MODULES]
    assert stderr == ""


def test_an_edited_source_is_run_instead_of_its_old_build(tmp_path: Path) -> None:
    require_the_build()
    root = copy_of_the_package(tmp_path)
    assert all(f.endswith(".so") for f in imported_from(root)[0])
    with (root / "proxy" / "decode" / "errors.py").open("a") as source:
        source.write("\nEDITED = True\n")
    files, stderr = imported_from(root)
    assert files == [str(compiled.source(m, root)) for m in compiled.MODULES]
    assert stderr == ""  # quietly: every command's output stays the same


def test_the_stamp_names_each_source_by_its_hash(tmp_path: Path) -> None:
    root = copy_of_the_package(tmp_path)
    stamp = tmp_path / "stamp"
    stamp.write_text(compiled.stamp_text(root))
    assert not compiled.stale(stamp, root)
    rows = compiled.source("proxy.store.rows", root)
    rows.write_text(rows.read_text() + "\n")
    assert compiled.stale(stamp, root)
    assert compiled.stale(tmp_path / "no-stamp", root)  # a build that never finished


def test_the_state_says_what_runs_and_why(tmp_path: Path) -> None:
    require_the_build()
    root = copy_of_the_package(tmp_path)

    def state(**env: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", STATE], capture_output=True, text=True, check=True, cwd=root,
            env={**os.environ, "PYTHONPATH": str(root), **env},
        ).stdout.strip()  # fmt: skip

    assert state() == "compiled"
    assert state(HUBSCOPE_PURE="1") == "sources: HUBSCOPE_PURE=1"
    with (root / "proxy" / "store" / "rows.py").open("a") as source:
        source.write("\n")
    assert state().startswith("sources: the build is older than them")


def test_a_build_that_cannot_compile_leaves_the_sources_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_of_the_package(tmp_path)
    monkeypatch.setattr(compiled, "ROOT", root)
    monkeypatch.setattr(compiled, "STAMP", root / "proxy" / "_compiled.stamp")
    (root / "proxy" / "_compiled.stamp").write_text("an older build\n")

    def no_compiler() -> None:
        (root / "proxy" / "half.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")
        raise SystemExit("error: command 'gcc' failed: No such file or directory")

    monkeypatch.setattr(compiled, "_compile", no_compiler)
    compiled.build()
    assert not list(root.joinpath("proxy").rglob("*.so"))  # nothing half-built shadows a source
    assert not (root / "proxy" / "_compiled.stamp").exists()
    assert "not compiled (error: command 'gcc' failed" in capsys.readouterr().err
