"""What a test needs from outside the repository: a browser, a database server, `shared/`.

On a laptop without it the test is skipped, with the reason in pytest's `-ra` summary;
under `CI=true` it fails instead, because CI must run every test. The repository's own
test data (`tests/data/`) never needs this.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["SHARED", "in_ci", "needs", "unavailable"]

SHARED = Path(__file__).resolve().parents[2] / "shared"
"""The team's shared folder beside the clone (CI lays it there too)."""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def needs(available: bool, what: str) -> pytest.MarkDecorator:
    """Mark a test (or `pytestmark` a module) that cannot run without `what`."""
    if available:
        return pytest.mark.skipif(False, reason=what)
    if in_ci():
        return pytest.mark.missing(what)
    return pytest.mark.skip(reason=f"{what} is not available here (under CI=true this fails)")


def unavailable(what: str) -> None:
    """Inside a test: stop here because `what` is missing (skip, or fail under CI=true)."""
    if in_ci():
        pytest.fail(f"{what} is not available, and CI=true runs every test")
    pytest.skip(f"{what} is not available here (under CI=true this fails)")
