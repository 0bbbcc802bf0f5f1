"""Something missing from outside the repository skips a test on a laptop, fails it in CI."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

MODULE = """
from tests.outside import needs, unavailable

@needs(False, "a thing from outside")
def test_marked():
    pass

def test_inside():
    unavailable("another thing")

@needs(True, "present")
def test_present():
    pass
"""


LOCAL = {"skipped": 2, "passed": 1}
IN_CI = {"failed": 1, "errors": 1, "passed": 1}


@pytest.mark.parametrize(("ci", "outcome"), [("", LOCAL), ("true", IN_CI)])
def test_missing_things_skip_locally_and_fail_in_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str, outcome: dict[str, int]
) -> None:
    monkeypatch.setenv("CI", ci)
    pytester.makeconftest(
        "from tests.conftest import pytest_configure, pytest_runtest_setup  # noqa: F401"
    )
    pytester.makepyfile(test_it=MODULE)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-W", "ignore")
    result.assert_outcomes(**outcome)
    if ci:
        result.stdout.fnmatch_lines(["*a thing from outside is not available, and CI=true*"])
