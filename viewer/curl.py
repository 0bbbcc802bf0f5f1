"""Copy as curl: the recorded request as a shell command, with a placeholder for the SAS token."""

from __future__ import annotations

import re
import shlex

from proxy.exchange import Exchange

PLACEHOLDER = "<SAS token>"
SKIP = frozenset({"host", "content-length", "connection", "accept-encoding", "transfer-encoding"})
_SIG = re.compile(r"([?&]sig=)[^&]*", re.IGNORECASE)


def as_curl(exchange: Exchange, *, authorization: str | None = None) -> str:
    """A curl command that sends the same request (the signature is never stored).

    `authorization` is a freshly signed token to put in place of the placeholder.
    """
    url = _SIG.sub(r"\1" + "%3CSAS%20signature%3E", exchange.url)
    parts = [f"curl -i -X {exchange.method} {shlex.quote(url)}"]
    for name, value in exchange.request.headers:
        lname = name.lower()
        if lname in SKIP:
            continue
        if lname in ("authorization", "servicebusauthorization"):
            value = PLACEHOLDER if authorization is None else authorization
        parts.append("-H " + shlex.quote(f"{name}: {value}"))
    body = exchange.request.body
    if body:
        try:
            parts.append("--data-binary " + shlex.quote(body.decode("utf-8")))
        except UnicodeDecodeError:
            parts.append("--data-binary @request.bin")
    return " \\\n  ".join(parts)
