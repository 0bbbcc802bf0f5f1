"""The modules the writer spends its time in, compiled with mypyc, and the guard that keeps
an edited source from running as its old build.

`make` builds them (`compiled.build()`): each `.py` gets a compiled twin beside it,
and Python imports the twin first. 9–12 % less CPU per stored exchange
(docs/benchmarks.md). The `.py` files stay the source. When one has changed since the build,
or `HUBSCOPE_PURE=1` is set, every module of the build is imported from its source instead:
the compiled ones share classes, so it is all or none. A hubscope installed without the build
(`pipx install .`) runs the same sources.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

__all__ = ["MODULES", "PURE_ENV", "STATE", "build", "prefer_sources", "stale"]

MODULES = (
    "proxy.model",
    "proxy.operations",
    "proxy.decode",
    "proxy.decode.errors",
    "proxy.decode.xml",
    "proxy.decode.registrations",
    "proxy.decode.installations",
    "proxy.decode.sends",
    "proxy.store.rows",
    "proxy.recording.records",
    "proxy.redact",
    "proxy.redact.bodies",
    "proxy.redact.escapes",
    "proxy.redact.fields",
    "proxy.redact.logs",
    "proxy.redact.shapes",
    "proxy.redact.triggers",
)
"""Decoding and row building, what the writer's workers run for every exchange; and the
redactor, which the proxy runs on every exchange before it journals it. Not
`proxy.exchange`: replay and import build its messages from whatever bytes-like bodies
they hold, which a compiled class would refuse."""
PURE_ENV = "HUBSCOPE_PURE"
"""Set to 1: import the sources even where a build is current (a profiler sees into them)."""
ROOT = Path(__file__).resolve().parent.parent
STAMP = ROOT / "proxy" / "_compiled.stamp"
"""Written by `build()`: each module's source SHA-256 at build time, one `hash path` a line."""
GROUP = "proxy._native"
"""The shared library the compiled modules live in, inside the package, where an editable
install's finder (which maps only `proxy` and `viewer`) can import it."""


def source(module: str, root: Path = ROOT) -> Path:
    """A module's `.py` file."""
    path = root.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stamp_text(root: Path = ROOT) -> str:
    """What the stamp says of the sources as they are now."""
    return "".join(
        f"{_digest(source(m, root))} {source(m, root).relative_to(root)}\n" for m in MODULES
    )


def stale(stamp: Path = STAMP, root: Path = ROOT) -> bool:
    """Whether a build's compiled modules no longer match their sources (or say nothing
    about them: a build interrupted before its stamp)."""
    try:
        return stamp.read_text() != stamp_text(root)
    except OSError:
        return True


class _Sources:
    """A finder that imports the build's modules from their `.py` files."""

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name not in MODULES:
            return None
        file = source(name)
        search = [str(file.parent)] if file.name == "__init__.py" else None
        return importlib.util.spec_from_file_location(
            name, file, submodule_search_locations=search
        )


STATE = "sources: not built"
"""What this process runs, as `prefer_sources()` decided (`make bench` records it)."""


def prefer_sources() -> None:
    """Import the sources instead of a build that is stale or not wanted; called once, by
    `proxy/__init__.py`, before any of the modules is imported. Quietly: the sources are
    the same program, only slower, and a line on stderr would be in every command's output."""
    global STATE
    if not any(ROOT.joinpath("proxy").glob("_native*.so")):
        return
    if os.environ.get(PURE_ENV) == "1":
        STATE = f"sources: {PURE_ENV}=1"
    elif stale():
        STATE = "sources: the build is older than them (`make` rebuilds it)"
    else:
        STATE = "compiled"
        return
    sys.meta_path.insert(0, _Sources())


def build() -> None:
    """Compile the modules in place (mypyc, from the test extras) unless the build is
    current. Where it cannot (no C compiler), says why and leaves hubscope on its sources:
    `tests/test_compiled.py` fails under CI=true without a build."""
    if not stale(STAMP, ROOT):
        return
    STAMP.unlink(missing_ok=True)
    _remove_build()
    try:
        _compile()
    except (Exception, SystemExit) as error:  # setuptools exits on a failed compile
        _remove_build()
        print(f"hubscope: not compiled ({error}); running the sources", file=sys.stderr)
        return
    STAMP.write_text(stamp_text(ROOT))


def _remove_build() -> None:
    for old in ROOT.joinpath("proxy").rglob("*.so"):  # one no longer in MODULES would shadow
        old.unlink()


def _compile() -> None:
    from mypyc.build import mypycify  # only the build needs mypy (a test extra)
    from setuptools import setup

    os.chdir(ROOT)
    paths = [str(source(m, ROOT).relative_to(ROOT)) for m in MODULES]
    setup(
        name="hubscope-compiled",
        ext_modules=mypycify(paths, group_name=GROUP),
        script_args=["build_ext", "--inplace", "--build-temp", "build/mypyc"],
    )

