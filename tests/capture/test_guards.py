"""The client guards' pure parts (the deadlines run in tests/reliability/test_slow_clients.py)."""

from __future__ import annotations

import asyncio
import resource

import pytest

from proxy.capture.guards import (
    RESERVED_FILES,
    Deadline,
    _parse_head,
    default_max_clients,
    late_header,
    own_answer,
)


class _Transport(asyncio.Transport):
    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 5555) if name == "peername" else default


def test_a_partial_header_keeps_its_request_line_and_complete_lines() -> None:
    head = b"PUT /hub/installations/1 HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nX-Ha"
    cut = _parse_head(head, _Transport(), "why")
    assert cut is not None
    assert (cut.method, cut.target, cut.peer) == ("PUT", "/hub/installations/1", "127.0.0.1:5555")
    assert cut.headers == (("Host", "h"), ("Content-Type", "application/json"))
    assert cut.address == ("127.0.0.1", 5555)


def test_half_a_request_line_is_not_a_request() -> None:
    assert _parse_head(b"GET /hub/registr", _Transport(), "why") is None
    assert _parse_head(b"\x16\x03\x01 binary\r\n", _Transport(), "why") is None


def test_client_bound_leaves_room_for_the_upstream_pool() -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert default_max_clients(100) == max(8, soft - RESERVED_FILES - 100)


def test_the_proxys_own_answer_closes_the_connection() -> None:
    raw = own_answer(408, "too slow")
    assert raw.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"Connection: close\r\n" in raw and raw.endswith(b"\r\n\r\ntoo slow\n")


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (400, "Bad Request"),
        (408, "Request Timeout"),
        (431, "Request Header Fields Too Large"),
        (502, "Bad Gateway"),
        (503, "Service Unavailable"),
    ],
)
def test_every_own_answer_the_proxy_writes_has_the_same_shape(status: int, reason: str) -> None:
    """The guards' 408/503 and the forward front door's 400/408/431/502 (`connect._answer`)."""
    assert own_answer(status, "why") == (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: 4\r\nConnection: close\r\nX-Hubscope-Error: 1\r\n\r\nwhy\n"
    ).encode()


def test_a_late_header_is_told_with_the_deadline_and_the_option() -> None:
    assert late_header(2.5) == (
        "hubscope: the request header did not arrive within 2.5 s (--header-timeout)"
    )
    assert "within 30 s" in late_header(30.0)


async def test_a_deadline_fires_once_for_its_last_arming_and_not_when_disarmed() -> None:
    """The header deadline of `_Guarded` and of the forward front door (`connect._Front`)."""
    fired: list[str] = []
    deadline, stopped = Deadline(), Deadline()
    deadline.arm(0, lambda: fired.append("first"))
    deadline.arm(0, lambda: fired.append("again"))  # re-arming replaces the first
    stopped.arm(0, lambda: fired.append("stopped"))
    stopped.disarm()
    await asyncio.sleep(0.05)  # later than both zero-second timers, whatever the load
    assert fired == ["again"]
    assert deadline.handle is None and stopped.handle is None
