"""Bounded inflation: a gzip bomb costs at most the limit, and says "too large to inflate"."""

from __future__ import annotations

import gzip
import zlib

from proxy import inflate


def bomb(size: int) -> bytes:
    """`size` zero bytes gzipped, built in chunks so the test itself stays small."""
    packer = zlib.compressobj(9, wbits=31)
    chunk = bytes(1 << 20)
    return b"".join(packer.compress(chunk) for _ in range(size >> 20)) + packer.flush()


def test_a_gzip_bomb_stops_at_the_limit() -> None:
    data = bomb(64 << 20)
    assert len(data) < 100_000
    out = inflate.inflate(data, "gzip", limit=1 << 20)
    assert out.too_large and not out.complete
    assert len(out.body) <= 1 << 20
    assert out.error == "gzip: too large to inflate (more than 1 MiB)"


def test_a_body_at_the_limit_inflates_whole() -> None:
    out = inflate.inflate(gzip.compress(b"a" * (1 << 20)), "gzip", limit=1 << 20)
    assert out.complete and out.body == b"a" * (1 << 20)


def test_every_gzip_member_is_inflated() -> None:
    data = gzip.compress(b"first ") + gzip.compress(b"second")
    assert inflate.inflate(data, "gzip").body == b"first second"


def test_deflate_with_and_without_the_zlib_header() -> None:
    assert inflate.inflate(zlib.compress(b"hello"), "deflate").body == b"hello"
    raw = zlib.compressobj(wbits=-15)
    assert inflate.inflate(raw.compress(b"hello") + raw.flush(), "deflate").body == b"hello"


def test_stacked_encodings_are_undone_last_first() -> None:
    data = zlib.compress(gzip.compress(b"inner"))
    assert inflate.inflate(data, "gzip, deflate").body == b"inner"
    assert inflate.codings(" gzip , identity,deflate ") == ["gzip", "deflate"]


def test_unknown_truncated_and_corrupt_data_say_why() -> None:
    unknown = inflate.inflate(b"xyz", "br")
    assert unknown.unsupported and unknown.error == "Content-Encoding br is not supported"
    whole = gzip.compress(b"hello world" * 100)
    cut = inflate.inflate(whole[: len(whole) // 2], "gzip")
    assert not cut.complete and "ends early" in (cut.error or "")
    assert cut.body and b"hello world".startswith(cut.body[:11])
    corrupt = inflate.inflate(b"not gzip at all", "gzip")
    assert not corrupt.complete and corrupt.body == b""
    assert inflate.inflate(b"plain", None).body == b"plain"
