"""The context rebuilt from stored columns says what a fresh decode says, for what
session rules read."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from proxy import store
from proxy.audit.pages import CLIENT, ID, REQUEST_HEADERS, RESPONSE_HEADERS, STATUS, pages
from proxy.audit.slim import _UNSURE, SlimCtx, _device, _first_value, _Frozen
from proxy.exchange import Exchange, Message
from proxy.model import Decoded, Device, Platform, Template
from proxy.rules import Ctx
from proxy.store import findings, rows
from tests.rules.factories import NOW
from tests.rules.test_examples import EXAMPLES
from tests.rules.test_session import SESSION_EXAMPLES


def _facts(ctx: Ctx) -> tuple[object, ...]:
    op = ctx.decoded.operation
    devices = [
        (d.kind, d.source_type, d.platform, d.handle, d.registration_id, d.installation_id,
         d.etag, d.templates[0].name if d.templates else None)
        for d in (*ctx.request_devices, *ctx.response_devices)
    ]  # fmt: skip
    return (ctx.id, ctx.op, op.hub, op.resource_id, op.api_version, ctx.status, ctx.method,
            ctx.header("User-Agent"), ctx.header("If-Match"),
            ctx.response_header("Location"), ctx.exchange.client, devices)  # fmt: skip


def test_slim_contexts_match_fresh_decodes(tmp_path: Path) -> None:
    items = [item for pair in SESSION_EXAMPLES.values() for seq in pair for item in seq]
    items += [item for pair in EXAMPLES.values() for item in pair]
    items = [(replace(ex, started_at=NOW + i), dec) for i, (ex, dec) in enumerate(items)]
    db = store.connect(tmp_path / "slim.db")
    store.ensure_session(db, "s", kind="proxy")
    store.write_rows(db, rows.build([ex for ex, _ in items], body_cap=1 << 20, keys={}))
    page = next(pages(db, "s", size=len(items)))
    stored = {row[ID]: row for row in page.rows}
    compared = 0
    for ex, decoded in items:
        fresh = Ctx(ex, decoded)
        slim = SlimCtx(stored[ex.id], page.devices.get(ex.id, []))
        assert _facts(slim) == _facts(fresh), ex.id
        assert [f.rule for f in findings.load(db, [ex.id]).get(ex.id, [])] == [
            values[1] for values in page.findings.get(ex.id, [])
        ]
        compared += bool(fresh.request_devices or fresh.response_devices)
    assert compared > 50


HEADER_LISTS = [
    [("User-Agent", "a"), ("user-agent", "b")],
    [("Host", 'x", ["user-agent", "spoofed'), ("User-Agent", "real")],
    [("X-Note", '["User-Agent", "inside a value"]')],
    [("X-Note", "User-Agent")],
    [("Üser-Agent", "x"), ("User-Agent", "ü")],
    [("X-Name", "İİİİ"), ("User-Agent", "lower-casing made the text longer")],
    [("User-Agent", 'quote " and backslash \\ and tab \t')],
    [("ETag", 'W/"1"'), ("Location", "http://h/hub/registrations/1?api-version=2015-01")],
    [("User-Agent\u0001", "control"), ("User-Agent", "after")],
    [],
]


def test_a_header_found_in_the_stored_text_is_the_first_value_parsing_finds() -> None:
    """The fast lookup (`_first_value`) answers as parsing every pair would, or leaves it
    to the parse: values quoting header names, non-ASCII, escapes, repeats."""
    names = ["User-Agent", "user-agent", "Location", "ETag", "Host", "X-Note", "Missing"]
    unsure = 0
    for pairs in HEADER_LISTS:
        text = rows.headers_json(tuple(pairs)) if pairs else None
        expected = {k.lower(): v for k, v in reversed(pairs)}
        for name in names:
            found = _first_value(text, name.lower())
            unsure += found is _UNSURE
            if found is not _UNSURE:
                assert found == expected.get(name.lower()), (pairs, name)
            row: list[object] = [None] * 15
            row[REQUEST_HEADERS] = text
            answered = tuple((k, f"{v} (answer)") for k, v in pairs)  # the same shape
            row[RESPONSE_HEADERS] = rows.headers_json(answered) if answered else None
            slim = SlimCtx(tuple(row), [])
            assert slim.header(name) == expected.get(name.lower()), (pairs, name)
            value = expected.get(name.lower())
            assert slim.response_header(name) == (None if value is None else f"{value} (answer)")
    assert 0 < unsure < len(HEADER_LISTS) * len(names) / 2


def test_what_the_fast_maker_makes_equals_what_the_constructor_makes() -> None:
    """Devices and exchanges are made without their dataclass's `__init__`: every field
    set, the defaults shared only where they are plain values."""
    row = [None] * 15
    row[ID], row[STATUS], row[CLIENT] = "x1", 201, "10.0.0.1:5000"
    slim = SlimCtx(tuple(row), [])
    assert slim.exchange == Exchange(
        id="x1", session=None, started_at=None, duration_ms=0.0, method=None, url=None,
        request=Message(headers=(), body=b""), status=201,
        response=Message(headers=(), body=b""), client="10.0.0.1:5000",
    )  # fmt: skip
    with pytest.raises(TypeError, match="no default to share"):
        _Frozen(Decoded, ("operation",))
    values = ("e1", "response", "registration", "GcmRegistrationDescription", "gcm", "h",
              "r1", None, "3", "tmpl")  # fmt: skip
    assert _device(values) == Device(
        kind="registration", source_type="GcmRegistrationDescription", platform=Platform.GCM,
        handle="h", registration_id="r1", etag="3", templates=(Template(name="tmpl", body=None),),
    )  # fmt: skip
    assert _device(("e1", "request", "installation", None, "nope", None, None, "i1", None,
                    None)) == Device(kind="installation", source_type="", platform=Platform.UNKNOWN,
                                     installation_id="i1")  # fmt: skip


def test_on_a_class_that_is_not_compiled_the_fast_maker_skips_init() -> None:
    """`pipx install .` and `HUBSCOPE_PURE=1` run the model uncompiled: the maker then sets
    the fields itself, never calling `__init__`, and makes what the constructor makes."""

    @dataclass(frozen=True, slots=True, kw_only=True)
    class Plain:
        name: str
        size: int = 3
        tags: tuple[str, ...] = ()

        def __post_init__(self) -> None:
            if self.name == "made by __init__":
                raise AssertionError("the fast maker called __init__")

    made = _Frozen(Plain, ("name", "size"))("made by __init__", 4)
    assert (made.name, made.size, made.tags) == ("made by __init__", 4, ())
    assert _Frozen(Plain, ("name",))("x") == Plain(name="x")
