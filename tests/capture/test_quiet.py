"""Rate-limited logging: a flood of one kind of line writes a bounded number of lines."""

from __future__ import annotations

import logging

import pytest

from proxy.capture.quiet import RateLimit


def test_a_flood_of_one_line_is_cut_to_the_burst(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.quiet.flood")
    logger.addFilter(RateLimit(burst=5, period=60))
    try:
        with caplog.at_level(logging.WARNING, logger="tests.quiet.flood"):
            for i in range(1000):
                logger.warning("upstream failed %d", i)
            logger.warning("another call site")
    finally:
        logger.filters.clear()
    assert len(caplog.records) == 6, "5 of the flood, and the line from elsewhere"


def test_the_next_window_says_how_many_were_left_out(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.quiet.window")
    limit = RateLimit(burst=2, period=3600)
    logger.addFilter(limit)
    try:
        with caplog.at_level(logging.WARNING, logger="tests.quiet.window"):
            for i in range(8):
                if i == 7:
                    limit.period = 0.0  # the window is over
                logger.warning("same line")
    finally:
        logger.filters.clear()
    assert len(caplog.records) == 3
    assert "[5 more like this" in caplog.records[-1].getMessage()
