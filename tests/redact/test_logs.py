"""Log lines are redacted when they are made: message, arguments, traceback."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from proxy import redact
from proxy.redact import logs

SIG = "Zm9vYmFyYmF6c2VjcmV0c2lnbmF0dXJl"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """A handler added *after* the redaction is installed, as `basicConfig` would be."""
    previous = logging.getLogRecordFactory()
    redact.install_logging()
    redact.install_logging()  # idempotent: one layer, not two
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("hubscope.test.logs")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logging.setLogRecordFactory(previous)


def test_arguments_and_tracebacks_are_redacted(captured: io.StringIO) -> None:
    log = logging.getLogger("hubscope.test.logs")
    log.warning("GET %s → 504: %s", f"http://h/x?sig={SIG}", "timeout")
    try:
        raise ValueError(f"bad url http://h/x?sig={SIG}&se=1")
    except ValueError:
        log.exception("failed with %r", {"authorization": f"Bearer {SIG}"})
    text = captured.getvalue()
    assert SIG not in text
    assert "GET http://h/x?sig=[redacted] → 504: timeout" in text
    assert "ValueError: bad url http://h/x?sig=[redacted]&se=1" in text


def test_installed_once() -> None:
    previous = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)  # as a fresh process starts, whatever ran before
    try:
        redact.install_logging()
        once = logging.getLogRecordFactory()
        redact.install_logging()
        assert logging.getLogRecordFactory() is once is not logging.LogRecord
    finally:
        logging.setLogRecordFactory(previous)


def test_a_broken_format_string_still_gets_through() -> None:
    record = logging.LogRecord("x", logging.INFO, "f", 1, "%s %s", (f"sig={SIG}",), None)
    out = logs.scrubbed(record, redact.text)
    assert SIG not in out.getMessage()
