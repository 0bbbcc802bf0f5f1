"""`Expect: 100-continue` (RFC 9110 §10.1.1): the proxy invites the client to send its body.

A client that sends it (curl when asked, .NET's HttpClient when told to) sends its
header, waits for `100 Continue`, then the body. aiohttp's router answers it for a
`web.Application`; the proxy runs on the low-level server, which does not, so the
forwarder asks here just before it reads the body. A request refused on its header alone
(413, a wrong route, a stopped recorder) gets its final answer and no invitation: the
client does not send a body for nothing. The `Expect` header itself is forwarded like any
other, so the hub meets the client's expectation too.
"""

from __future__ import annotations

from aiohttp import HttpVersion11, web

__all__ = ["CONTINUE", "invite_body"]

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


async def invite_body(request: web.BaseRequest) -> str | None:
    """Send `100 Continue` when the client waits for it before its body; the text of a 417
    for an expectation the proxy does not know; None when there is nothing to meet.

    HTTP/1.0 has no interim answers: its expectation is ignored, as the RFC says. A body
    that has already arrived needs no invitation.
    """
    expect = request.headers.get("Expect")
    if expect is None or request.version != HttpVersion11:
        return None
    if expect.strip().lower() != "100-continue":
        return f"hubscope: unknown expectation (Expect: {expect[:80]}); only 100-continue is met"
    if not request.content.is_eof():
        writer = request.writer
        await writer.write(CONTINUE)
        writer.output_size = 0  # not part of the answer (as aiohttp's own handler does)
    return None
