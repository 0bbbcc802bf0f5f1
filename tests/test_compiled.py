"""The compiled build of the writer's modules (`proxy/compiled.py`): used when current,
never when its sources changed, and never under `HUBSCOPE_PURE=1`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from proxy import compiled
from tests.outside import unavailable

WHERE = "import importlib; [print(importlib.import_module(m).__file__) for m in {modules!r}]"


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
    assert "older than their sources" in stderr


def test_the_stamp_names_each_source_by_its_hash(tmp_path: Path) -> None:
    root = copy_of_the_package(tmp_path)
    stamp = tmp_path / "stamp"
    stamp.write_text(compiled.stamp_text(root))
    assert not compiled.stale(stamp, root)
    rows = compiled.source("proxy.store.rows", root)
    rows.write_text(rows.read_text() + "\n")
    assert compiled.stale(stamp, root)
    assert compiled.stale(tmp_path / "no-stamp", root)  # a build that never finished
