"""A fast loopback upstream that answers like Notification Hubs, for the benchmark.

A bare asyncio Protocol with a minimal HTTP/1.1 parser (Content-Length bodies,
keep-alive, pipelining): POST …/registrations → 200 + Atom entry, PUT
…/installations/{id} → 200 with an empty body, anything else → 404. No framework,
so the upstream costs as little CPU as Python allows and "direct" is a fair ceiling.

    python bench/upstream.py --port 0     # prints "listening PORT", stops on SIGTERM/SIGINT
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from email.utils import formatdate

from payloads import installation_response, registration_response

MAX_HEAD = 64 * 1024


class HubProtocol(asyncio.Protocol):
    counter = 0

    def __init__(self, host: str) -> None:
        self.host = host
        self.buf = b""
        self.transport: asyncio.Transport | None = None
        inst_headers, _ = installation_response()
        self.inst_head = _head(200, "OK", inst_headers, 0)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        out: list[bytes] = []
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > MAX_HEAD:
                    self._close()
                return_write(self.transport, out)
                return
            head = self.buf[:end]
            length = 0
            lower = head.lower()
            i = lower.find(b"\r\ncontent-length:")
            if i >= 0:
                j = lower.find(b"\r\n", i + 2)
                length = int(head[i + 17 : j if j >= 0 else len(head)].strip())
            if b"\r\ntransfer-encoding:" in lower:
                out.append(_head(501, "Not Implemented", [], 0))
                return_write(self.transport, out)
                self._close()
                return
            total = end + 4 + length
            if len(self.buf) < total:
                return_write(self.transport, out)
                return
            line = head[: head.find(b"\r\n")] if b"\r\n" in head else head
            self.buf = self.buf[total:]
            out.append(self.answer(line))

    def answer(self, line: bytes) -> bytes:
        parts = line.split(b" ")
        method, target = parts[0], parts[1] if len(parts) > 1 else b"/"
        path = target.split(b"?", 1)[0]
        if method == b"POST" and path.endswith(b"/registrations"):
            HubProtocol.counter += 1
            headers, body = registration_response(HubProtocol.counter, self.host)
            return _head(200, "OK", headers, len(body)) + body
        if method == b"PUT" and b"/installations/" in path:
            return self.inst_head
        return _head(404, "Not Found", [], 0)

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def return_write(transport: asyncio.Transport | None, out: list[bytes]) -> None:
    if out and transport is not None and not transport.is_closing():
        transport.write(b"".join(out))


def _head(status: int, reason: str, headers: list[tuple[str, str]], length: int) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", f"Date: {formatdate(usegmt=True)}"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def main(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    where = [f"{host}:{port}"]
    server = await loop.create_server(lambda: HubProtocol(where[0]), host, port, backlog=1024)
    bound = server.sockets[0].getsockname()[1]
    where[0] = f"{host}:{bound}"
    print(f"listening {bound}", flush=True)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(main(args.host, args.port))
    sys.exit(0)
