"""The `api-version` every call must carry, and what each version changes in the answers."""

from __future__ import annotations

from proxy.model import Op, Operation

__all__ = ["FORBIDDEN_IS_403_FROM", "KNOWN", "at_least", "version_problem"]

KNOWN = (
    "2013-04",
    "2014-09",
    "2015-01",
    "2015-04",
    "2015-08",
    "2016-07",
    "2017-04",
    "2017-11",
    "2020-06",
)
"""Every data-plane version clients, docs or recordings use (spec/nh-rest-api.md §1.2)."""

_MINIMUM = {
    Op.SEND_DIRECT: "2015-04",
    Op.SEND_BATCH: "2015-08",
    Op.CREATE_OR_OVERWRITE_INSTALLATION: "2015-01",
    Op.READ_INSTALLATION: "2015-01",
    Op.PATCH_INSTALLATION: "2015-01",
    Op.DELETE_INSTALLATION: "2015-01",
}
"""Operations documented from a later version on (direct send §9.2, installations §6)."""

FORBIDDEN_IS_403_FROM = "2020-06"
"""From this version a rule lacking a claim gets 403 with no body; before it, 401 (§1.6)."""


def at_least(version: str, minimum: str) -> bool:
    """`yyyy-mm` versions compare as text."""
    return version >= minimum


def version_problem(op: Operation) -> str | None:
    """Why the call's `api-version` is refused (the 400 detail), or None."""
    version = op.api_version
    if version is None or not version.strip():
        return "The api-version query parameter is required"
    if version not in KNOWN:
        return f"The api-version '{version}' is not supported"
    minimum = _MINIMUM.get(op.name)
    if minimum is not None and not at_least(version, minimum):
        return f"This operation needs api-version {minimum} or later, not '{version}'"
    return None
