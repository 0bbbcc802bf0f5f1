"""Bodies in every encoding they declare: a compressed secret is found and replaced (and the
body stays compressed), a body that cannot be looked at is not stored, and says why."""

from __future__ import annotations

import gzip
import zlib

from proxy import inflate, redact
from proxy.redact import NOT_STORED, bodies
from tests.test_inflate import bomb

KEY = "c2VjcmV0a2V5c2VjcmV0a2V5c2VjcmV0a2V5MTIzNDU="
CS = f"Endpoint=sb://ns/;SharedAccessKeyName=Full;SharedAccessKey={KEY}"


def test_a_gzip_body_is_stored_gzipped_without_the_secret() -> None:
    data = gzip.compress(f'{{"cs": "{CS}"}}'.encode())
    out = redact.body(data, content_encoding="gzip")
    assert out[:2] == b"\x1f\x8b", "still gzip, as the headers say"
    plain = gzip.decompress(out)
    assert KEY.encode() not in plain
    assert (
        plain == b'{"cs": "Endpoint=sb://ns/;SharedAccessKeyName=Full;SharedAccessKey=[redacted]"}'
    )


def test_deflate_and_stacked_encodings() -> None:
    out = redact.body(zlib.compress(CS.encode()), content_encoding="deflate")
    assert KEY.encode() not in zlib.decompress(out)
    stacked = zlib.compress(gzip.compress(CS.encode()))
    out = redact.body(stacked, content_encoding="gzip, deflate")
    assert KEY.encode() not in inflate.inflate(out, "gzip, deflate").body


def test_a_clean_compressed_body_is_kept_byte_for_byte() -> None:
    data = gzip.compress(b'{"installationId": "i1"}')
    assert redact.body(data, content_encoding="gzip") is data


def test_a_second_gzip_member_cannot_hide_a_secret() -> None:
    data = gzip.compress(b"harmless ") + gzip.compress(CS.encode())
    out = redact.body(data, content_encoding="gzip")
    assert KEY.encode() not in gzip.decompress(out)


def test_what_cannot_be_inflated_is_not_stored() -> None:
    too_large = redact.body(bomb(32 << 20), content_encoding="gzip")
    assert too_large.startswith(b"[hubscope: body not stored: gzip: too large to inflate")
    unknown = redact.body(b"\x0b\x01\x80" + CS.encode(), content_encoding="br")
    assert (
        unknown
        == NOT_STORED.format(
            why="Content-Encoding br is not supported, so it could not be checked for secrets"
        ).encode()
    )
    whole = gzip.compress(CS.encode() + b" " * 100_000)
    cut = redact.body(whole[: len(whole) // 2], content_encoding="gzip")
    assert KEY.encode() not in cut and cut.startswith(b"[hubscope: body not stored:")


def test_a_body_that_only_claims_to_be_compressed_is_scrubbed_as_it_is() -> None:
    out = redact.body(CS.encode(), content_encoding="gzip")
    assert out == CS.replace(KEY, "[redacted]").encode()


def test_utf16_bodies_by_bom_and_by_charset() -> None:
    for codec, content_type in (
        ("utf-16", None),
        ("utf-16-be", "application/xml; charset=UTF-16BE"),
        ("utf-16-le", "application/xml; charset=utf-16"),
        ("utf-32", None),
    ):
        data = f"<a>{CS}</a>".encode(codec)
        out = redact.body(data, content_type=content_type)
        assert out.decode(codec) == f"<a>{CS.replace(KEY, '[redacted]')}</a>", codec


def test_a_body_that_lies_about_its_charset_still_loses_its_secret() -> None:
    out = redact.body(f"<a>{CS}</a>".encode(), content_type="text/xml; charset=utf-16")
    assert KEY.encode() not in out


def test_bytes_that_are_not_text_survive_around_a_secret() -> None:
    data = b"\xff\xfe\x00garbage " + CS.encode() + b" \x80\x81"
    out = redact.body(data)
    assert out == b"\xff\xfe\x00garbage " + CS.replace(KEY, "[redacted]").encode() + b" \x80\x81"


def test_a_compressed_body_is_looked_at_up_to_the_look_limit() -> None:
    fits = gzip.compress(CS.encode() + b" " * (bodies.LOOK_LIMIT - len(CS) - 1))
    assert KEY.encode() not in gzip.decompress(redact.body(fits, content_encoding="gzip"))
    past = gzip.compress(CS.encode() + b" " * bodies.LOOK_LIMIT)
    out = redact.body(past, content_encoding="gzip")
    assert out.startswith(
        b"[hubscope: body not stored: gzip: too large to inflate (more than 2 MiB)"
    )


def test_a_body_crafted_full_of_secret_words_is_not_stored() -> None:
    tokens = [f"sig=abc{i}&se=1&skn=k " for i in range(bodies.MAX_WORDS + 1)]
    for coding, pack in ((None, bytes), ("gzip", gzip.compress)):
        out = redact.body(pack("".join(tokens).encode()), content_encoding=coding)
        assert out == NOT_STORED.format(why=(
            f"it holds more than {bodies.MAX_WORDS:,} words secrets are made of, "
            "too many to check one by one"
        )).encode()  # fmt: skip
    checked = redact.body("".join(tokens[:-1]).encode())
    assert b"abc7&" not in checked and checked.count(b"[redacted]") == bodies.MAX_WORDS
