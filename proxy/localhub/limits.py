"""Tags, user ids and template names within the service's grammar and limits.

The grammar is the one hubscope's own rules judge traffic by (`proxy.rules.tags`), so the
stand-in refuses exactly what the audit calls an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from proxy.rules.tags import MAX_COUNT, MAX_LENGTH, TAG

__all__ = [
    "MAX_TEMPLATE_NAME",
    "LimitExceeded",
    "check_tags",
    "check_template_name",
    "check_user_id",
]

MAX_TEMPLATE_NAME = 200
"""Template names: at most 200 characters (spec/nh-rest-api.md §13, .NET TemplateMaxLength)."""

_USER_ID = re.compile(r"^[-_@#.:=\w]+$")
"""Alphanumerics and `- _ @ # . : =` (§7.1): what fits inside `$UserId:{…}`."""


class LimitExceeded(ValueError):
    """A value the service refuses; the message is the 400 detail."""


def check_tags(tags: Iterable[str], where: str = "tags") -> None:
    """1–120 characters of the tag grammar each, at most 60 of them (§4.5, §13)."""
    listed = list(tags)
    for tag in listed:
        if len(tag) > MAX_LENGTH:
            raise LimitExceeded(
                f"The tag '{tag[:40]}…' in {where} has {len(tag)} characters; "
                f"at most {MAX_LENGTH} are allowed"
            )
        if not TAG.match(tag):
            raise LimitExceeded(
                f"The tag '{tag}' in {where} is not valid: tags are letters, digits and "
                "_ @ # . : - (or $InstallationId:{…} / $UserId:{…})"
            )
    if len(listed) > MAX_COUNT:
        raise LimitExceeded(f"{where} has {len(listed)} tags; at most {MAX_COUNT} are allowed")


def check_user_id(user_id: str) -> None:
    if not _USER_ID.match(user_id):
        raise LimitExceeded(
            f"The userId '{user_id}' is not valid: letters, digits and - _ @ # . : = only"
        )


def check_template_name(name: str) -> None:
    if len(name) > MAX_TEMPLATE_NAME:
        raise LimitExceeded(
            f"The template name '{name[:40]}…' has {len(name)} characters; "
            f"at most {MAX_TEMPLATE_NAME} are allowed"
        )
