"""Bodies in every encoding they declare: the charset (UTF-16 and UTF-32 included) and any
`Content-Encoding` (gzip, deflate). A compressed body is inflated, within a limit, to look
for secrets; when it holds one it is stored re-compressed with the secret replaced, and
when it cannot be looked at (too large to inflate, an unknown encoding, a secret in a
stream that does not inflate whole) it is not stored at all and the stored text says why.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable

from proxy import inflate
from proxy.redact import triggers

NOT_STORED = "[hubscope: body not stored: {why}]"
LOOK_LIMIT = 2 << 20
"""Largest inflated body looked at for secrets. Notification Hubs bodies are a few KiB
(sends at most 64 KB): a larger one is a bomb or a mistake, and inflating and scanning
it would hold up the proxy."""
MAX_WORDS = 1000
"""Most words secrets are made of (`triggers`) a body may hold and still be checked one
by one; real traffic holds a handful. A body crafted full of them (`sig=` 50,000 times)
would take seconds to check, so it is not stored, and the stored text says why."""

_CHARSET = re.compile(r"""(?i)\bcharset\s*=\s*["']?([\w.:-]+)""")
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_BOM_STARTS = frozenset(bom[:1] for bom, _ in _BOMS)
_WIDE = {
    "utf16": None, "utf16le": "utf-16-le", "utf16be": "utf-16-be",
    "utf32": None, "utf32le": "utf-32-le", "utf32be": "utf-32-be",
}  # fmt: skip
"""Declared charsets that are not ASCII-compatible; None: the byte order is sniffed."""

Scrub = Callable[[str], str]


def body(
    data: bytes, scrub: Scrub, *, content_type: str | None, content_encoding: str | None
) -> bytes:
    """`data` with its secrets replaced; the same object when it had none."""
    if not data:
        return data
    try:
        return _body(data, scrub, content_type, content_encoding)
    except TooManyWords as error:
        return _refused(str(error))
    except Exception as error:  # never lose the exchange over a redactor bug; never store blind
        return _refused(f"it could not be checked for secrets ({type(error).__name__})")


def _body(
    data: bytes, scrub: Scrub, content_type: str | None, content_encoding: str | None
) -> bytes:
    if not inflate.codings(content_encoding):
        return plain(data, scrub, content_type)
    inflated = inflate.inflate(data, content_encoding, limit=LOOK_LIMIT)
    if inflated.too_large or inflated.unsupported:
        return _refused(f"{inflated.error}, so it could not be checked for secrets")
    if inflated.error is not None and not inflated.body:
        return plain(data, scrub, content_type)  # declared compressed, but it is not
    cleaned = plain(inflated.body, scrub, content_type)
    raw_clean = plain(data, scrub, content_type) is data
    if cleaned is inflated.body and raw_clean:
        return data
    if inflated.complete and raw_clean:
        return compress(cleaned, content_encoding)
    return _refused(
        f"it holds a secret but its Content-Encoding does not inflate whole ({inflated.error})"
    )


def plain(data: bytes, scrub: Scrub, content_type: str | None) -> bytes:
    """An uncompressed body scrubbed as text; the same object if clean.

    It is read as UTF-8 (undecodable bytes kept as they are: every ASCII-compatible
    charset stays byte for byte) and, when it is UTF-16 or UTF-32, in that charset too,
    so a body that lies about its charset cannot hide a secret either way.
    """
    out = _scrubbed(data, scrub, "utf-8", b"", "surrogateescape")
    codec, bom = charset(out, content_type)
    if codec != "utf-8":
        out = _scrubbed(out, scrub, codec, bom, "surrogatepass")
    return out


def _scrubbed(data: bytes, scrub: Scrub, codec: str, bom: bytes, errors: str) -> bytes:
    try:
        text = data[len(bom) :].decode(codec, errors)
    except UnicodeDecodeError:
        return data
    if triggers.in_text(text, enough=MAX_WORDS + 1) > MAX_WORDS:
        raise TooManyWords(
            f"it holds more than {MAX_WORDS:,} words secrets are made of, "
            "too many to check one by one"
        )
    cleaned = scrub(text)
    if cleaned == text:
        return data
    try:
        return bom + cleaned.encode(codec, errors)
    except UnicodeEncodeError:  # a lone surrogate that came from a JSON escape
        return bom + cleaned.encode(codec, "surrogatepass")


def charset(data: bytes, content_type: str | None) -> tuple[str, bytes]:
    """The codec `data` declares (by BOM or `charset=`), and the BOM to keep in front of it."""
    if data[:1] in _BOM_STARTS:
        for bom, by_bom in _BOMS:
            if data.startswith(bom):
                return (by_bom, bom) if by_bom != "utf-8" else ("utf-8", b"")
    if not content_type or "charset" not in content_type.lower():
        return "utf-8", b""
    found = _CHARSET.search(content_type)
    declared = re.sub(r"[-_]", "", found.group(1).lower()) if found else ""
    if declared not in _WIDE:
        return "utf-8", b""
    codec = _WIDE[declared]
    if codec is not None:
        return codec, b""
    order = "be" if data[:1] == b"\x00" else "le"  # no BOM: trust a leading zero byte
    return f"utf-{declared[3:]}-{order}", b""


def compress(data: bytes, content_encoding: str | None) -> bytes:
    """`data` encoded again with every coding of `content_encoding`, in order."""
    for name in inflate.codings(content_encoding):
        packer = zlib.compressobj(wbits=31 if name in ("gzip", "x-gzip") else 15)
        data = packer.compress(data) + packer.flush()
    return data


class TooManyWords(Exception):
    """A body holding more than `MAX_WORDS` words of secrets: not checked, not stored."""


def _refused(why: str) -> bytes:
    return NOT_STORED.format(why=why).encode()
