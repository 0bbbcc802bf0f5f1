"""Every log record of the process redacted when it is made, before any handler sees it.

Installed once per process (`install`), as a log-record factory rather than a filter on
some handler: handlers added later (`logging.basicConfig` in a command, a test's capture)
get redacted records too, and no module that logs has to remember anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

_INSTALLED = "_hubscope_redacts"


def install(scrub: Callable[[str], str]) -> None:
    """Make every later `LogRecord` carry its message (and traceback) already scrubbed."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, _INSTALLED, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return scrubbed(previous(*args, **kwargs), scrub)

    setattr(factory, _INSTALLED, True)
    logging.setLogRecordFactory(factory)


def scrubbed(record: logging.LogRecord, scrub: Callable[[str], str]) -> logging.LogRecord:
    """The record with its formatted message, traceback and stack scrubbed in place."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep what there is, as text
        message = f"{record.msg!s} {record.args!r}"
    record.msg, record.args = scrub(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)
    return record
