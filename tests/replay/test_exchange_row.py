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


def test_by_id_and_by_unique_prefix(db_path: Path) -> None:
    db = store.connect(db_path, readonly=True)
    row = exchange_row(db, " abcdef0002 ")
    assert row is not None and row["id"] == "abcdef0002"
    found = exchange_row(db, "fedcba")
    assert found is not None and found["id"] == "fedcba0001"
    assert exchange_row(db, "fedcb") is None, "prefixes under six characters are not guessed"
    assert exchange_row(db, "0001") is None
    with pytest.raises(AmbiguousExchangeId, match="more than one exchange id starts or ends"):
        exchange_row(db, "abcdef")


def test_by_a_unique_end_when_no_id_starts_with_it(db_path: Path) -> None:
    """UUIDv7 ids made together share their start; their random end tells them apart."""
    db = store.connect(db_path, readonly=True)
    found = exchange_row(db, "ef9999")
    assert found is not None and found["id"] == "abc_ef9999"
    found = exchange_row(db, "cba0001")
    assert found is not None and found["id"] == "fedcba0001"
    assert exchange_row(db, "a0001") is None, "ends under six characters are not guessed"
    with pytest.raises(AmbiguousExchangeId, match="starts or ends with 'bcdef0001'"):
        exchange_row(db, "bcdef0001")  # the end of abcdef0001 and of 9bcdef0001


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
