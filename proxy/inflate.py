"""Bounded decompression of bodies by their `Content-Encoding`: never more than a limit.

Every place hubscope inflates a body (replay, loading recorded bodies, redaction, the
viewer) goes through `inflate`, so a small gzip bomb costs at most `LIMIT` bytes of
memory and ends in a clear "too large to inflate" instead.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

LIMIT = 16 << 20
"""Largest inflated body looked at (Notification Hubs bodies are a few KiB; sends cap at 64 KB)."""

_CHUNK = 64 << 10
_WBITS = {"gzip": 47, "x-gzip": 47, "deflate": 15}
"""zlib window bits: 47 = gzip or zlib header, auto-detected; raw deflate is tried as a fallback."""


@dataclass(frozen=True, slots=True)
class Inflated:
    """What came out: the inflated bytes so far, and why it stopped early if it did."""

    body: bytes
    error: str | None = None
    too_large: bool = False
    unsupported: bool = False

    @property
    def complete(self) -> bool:
        return self.error is None


def codings(content_encoding: str | None) -> list[str]:
    """The encodings applied to a body, in the order they were applied (`identity` left out)."""
    names = [part.strip().lower() for part in (content_encoding or "").split(",")]
    return [name for name in names if name and name != "identity"]


def is_supported(content_encoding: str | None) -> bool:
    return all(name in _WBITS for name in codings(content_encoding))


def inflate(body: bytes, content_encoding: str | None, *, limit: int = LIMIT) -> Inflated:
    """Undo every encoding in `content_encoding` (last applied first), never past `limit` bytes."""
    out = body
    for name in reversed(codings(content_encoding)):
        if name not in _WBITS:
            return Inflated(out, f"Content-Encoding {name} is not supported", unsupported=True)
        step = _one(out, _WBITS[name], limit)
        if step.error is not None and not step.body and name == "deflate":
            step = _one(out, -15, limit)  # some servers send raw deflate without the zlib header
        if step.error is not None:
            return Inflated(step.body, f"{name}: {step.error}", too_large=step.too_large)
        out = step.body
    return Inflated(out)


def _one(data: bytes, wbits: int, limit: int) -> Inflated:
    """Inflate one encoding layer; gzip may hold several members, each is inflated in turn."""
    parts: list[bytes] = []
    size = 0
    pending = data
    while pending:
        inflater = zlib.decompressobj(wbits)
        try:
            while pending and not inflater.eof:
                chunk = inflater.decompress(pending, min(_CHUNK, limit - size + 1))
                parts.append(chunk)
                size += len(chunk)
                if size > limit:
                    return Inflated(b"".join(parts)[:limit], _too_large(limit), too_large=True)
                pending = inflater.unconsumed_tail
        except zlib.error as error:
            return Inflated(b"".join(parts), f"not valid compressed data ({error})")
        if not inflater.eof:
            return Inflated(b"".join(parts), "the compressed data ends early")
        pending = inflater.unused_data
        if pending and wbits != 47:
            return Inflated(b"".join(parts), "data follows the end of the compressed stream")
    return Inflated(b"".join(parts))


def _too_large(limit: int) -> str:
    return f"too large to inflate (more than {limit >> 20} MiB)"
