"""Finding one recorded exchange by id, or by its start or end (`hubscope resend`, `curl`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy import store
from proxy.exchange import Exchange, Message
from proxy.recording.recorder import Recorder
from proxy.replay.resend import ExchangeNotFound, load_exchange
from proxy.store.read import AmbiguousExchangeId, exchange_row

IDS = ["abcdef0001", "abcdef0002", "abc_ef9999", "fedcba0001", "9bcdef0001"]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "h.db"
    writer = Recorder(path, session="s", upstream="http://127.0.0.1:9")
    writer.start()
    try:
        for n, ident in enumerate(IDS):
            writer.submit(
                Exchange(
                    id=ident,
                    session="s",
                    started_at=1000.0 + n,
                    duration_ms=1.0,
                    method="GET",
                    url=f"http://127.0.0.1:9/hub/registrations/{n}",
                    request=Message(headers=(), body=b""),
                    status=200,
                    reason="OK",
                    response=Message(headers=(), body=b""),
                )  # fmt: skip
            )
    finally:
        writer.close()
    assert writer.written == len(IDS)
    return path


@pytest.mark.parametrize(
    ("given", "found"),
    [
        (" abcdef0002 ", "abcdef0002"),  # the whole id
        ("fedcba", "fedcba0001"),  # its start
        ("ef9999", "abc_ef9999"),  # its end: UUIDv7 ids made together share their start
        ("cba0001", "fedcba0001"),
        ("fedcb", None),  # under six characters, nothing is guessed
        ("a0001", None),
        ("0001", None),
    ],
)
def test_by_id_or_by_a_unique_start_or_end(db_path: Path, given: str, found: str | None) -> None:
    row = exchange_row(store.connect(db_path, readonly=True), given)
    assert (row and row["id"]) == found


@pytest.mark.parametrize("given", ["abcdef", "bcdef0001"])
def test_a_start_or_end_several_ids_share_is_refused(db_path: Path, given: str) -> None:
    with pytest.raises(
        AmbiguousExchangeId, match=f"more than one exchange id starts or ends with {given!r}"
    ):
        exchange_row(store.connect(db_path, readonly=True), given)


def test_like_wildcards_in_the_prefix_are_literal(db_path: Path) -> None:
    db = store.connect(db_path, readonly=True)
    found = exchange_row(db, "abc_ef")
    assert found is not None and found["id"] == "abc_ef9999"
    assert exchange_row(db, "abc%ef") is None
    assert exchange_row(db, "abcde_000") is None


def test_load_exchange_says_what_is_wrong(db_path: Path) -> None:
    db = store.connect(db_path, readonly=True)
    assert load_exchange(db, "fedcba").exchange.url.endswith("/registrations/3")
    with pytest.raises(ExchangeNotFound, match="no exchange 'nope00' in the database"):
        load_exchange(db, "nope00")
    with pytest.raises(ExchangeNotFound, match="more than one"):
        load_exchange(db, "abcdef")
