"""Rate-limited logging: a flood of failing requests cannot fill the disk with log lines.

Each kind of line (the logging call that wrote it: messages arrive already formatted and
redacted, see `proxy.redact.logs`) may be written `burst` times per
`period` seconds; the rest are counted, and the next line of that kind written says how
many were left out. The forward path's loggers, aiohttp's server and asyncio's (which
logs every failed `accept()`) get the filter.
"""

from __future__ import annotations

import logging
import time

LOGGERS = (
    "proxy.capture",
    "proxy.capture.forward",
    "proxy.capture.guards",
    "proxy.capture.connect",
    "hubscope.proxy",
    "hubscope.tls",
    "aiohttp.server",
    "aiohttp.client",
    "asyncio",
)


class RateLimit(logging.Filter):
    """At most `burst` lines of one kind per `period` seconds."""

    def __init__(self, *, burst: int = 10, period: float = 10.0) -> None:
        super().__init__()
        self.burst = burst
        self.period = period
        self._windows: dict[tuple[str, int], list[float | int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.pathname, record.lineno)
        now = time.monotonic()
        window = self._windows.get(key)
        if window is None or now - window[0] >= self.period:
            left_out = int(window[2]) if window is not None else 0
            self._windows[key] = [now, 1, 0]
            if len(self._windows) > 1000:  # many kinds: forget the oldest windows
                for old in list(self._windows)[:500]:
                    del self._windows[old]
                self._windows[key] = [now, 1, 0]
            if left_out:
                record.msg = f"{record.msg} [{left_out} more like this not logged]"
            return True
        if window[1] < self.burst:
            window[1] += 1
            return True
        window[2] += 1
        return False


def install(*, burst: int = 10, period: float = 10.0) -> None:
    """Put a fresh rate limit on each of `LOGGERS`, replacing one installed before (each new
    proxy app starts with a clean count)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, RateLimit)]:
            logger.removeFilter(old)
        logger.addFilter(RateLimit(burst=burst, period=period))
