"""Copy as curl: the recorded request as a shell command that is safe to paste.

Recorded traffic is attacker-controlled (an imported file, a hostile client), so every
part is one quoted shell word: the method, the URL (after `--url`, so it can never be
read as an option), each header, and the body as a `$'…'` string with every byte that is
not plain text escaped — given to `--data-raw`, which never reads a file the way
`--data-binary @…` does. Only a body holding NUL bytes (which no shell word can carry)
is sent from a file, `request.bin`, saved from the raw request download.
"""

from __future__ import annotations

import re
import shlex
import unicodedata

from proxy.exchange import Exchange

PLACEHOLDER = "<SAS token>"
BODY_FILE = "request.bin"
SKIP = frozenset({"host", "content-length", "connection", "accept-encoding", "transfer-encoding"})
_SIG = re.compile(r"([?&]sig=)[^&]*", re.IGNORECASE)
_SAFE_WORD = re.compile(r"[\x20-\x7e]*")
_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", "!": "\\x21"}


def as_curl(exchange: Exchange, *, authorization: str | None = None) -> str:
    """A curl command that sends the same request (the signature is never stored).

    `authorization` is a freshly signed token to put in place of the placeholder.
    """
    url = _SIG.sub(r"\1" + "%3CSAS%20signature%3E", exchange.url)
    parts = [f"curl -i -X {word(exchange.method)} --url {word(url)}"]
    for name, value in exchange.request.headers:
        lname = name.lower()
        if lname in SKIP:
            continue
        if lname in ("authorization", "servicebusauthorization"):
            value = PLACEHOLDER if authorization is None else authorization
        parts.append("-H " + word(f"{name}: {value}"))
    body = exchange.request.body
    if body and b"\x00" in body:
        return (
            f"# the body holds NUL bytes: save the raw request body as {BODY_FILE} first\n"
            + " \\\n  ".join([*parts, f"--data-binary @{BODY_FILE}"])
        )
    if body:
        parts.append("--data-raw " + ansi_c(body))
    return " \\\n  ".join(parts)


def word(text: str) -> str:
    """One shell word: single-quoted when it is plain printable ASCII, else `$'…'`."""
    if _SAFE_WORD.fullmatch(text) and "!" not in text:
        return shlex.quote(text)
    return ansi_c(text.encode("utf-8", "surrogateescape"))


def ansi_c(data: bytes) -> str:
    """`data` as a bash/zsh `$'…'` word: printable text as is, everything else escaped."""
    out = []
    for char in data.decode("utf-8", "surrogateescape"):
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code > 0x7E and unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cn"):
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(char)
    return "$'" + "".join(out) + "'"
