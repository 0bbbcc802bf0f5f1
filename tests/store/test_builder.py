"""`RowBuilder`: a batch's rows, stamped with the instance, and able to travel to a worker."""

from __future__ import annotations

import pickle
from typing import Any

from proxy.exchange import Exchange
from proxy.model import Decoded
from proxy.store.builder import RowBuilder
from tests.recording.test_sqlite_target import _captured


def test_every_exchange_row_names_the_instance() -> None:
    built = RowBuilder(instance="host/1/127.0.0.1:8080")([_captured(1), _captured(2)])
    assert [r.exchanges[0]["instance"] for r in built] == ["host/1/127.0.0.1:8080"] * 2
    assert all(r.devices for r in built)
    assert "instance" not in RowBuilder()([_captured(3)])[0].exchanges[0]


def test_a_builder_travels_unless_it_carries_a_function() -> None:
    builder = RowBuilder({"RootManageSharedAccessKey": "k"}, "i")
    assert builder.portable and pickle.loads(pickle.dumps(builder)) == builder

    def more(ex: Exchange, decoded: Decoded | None) -> dict[str, list[dict[str, Any]]]:
        return {}

    assert not RowBuilder(add_rows=more).portable
