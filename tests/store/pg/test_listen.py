"""New rows are announced to listeners, by whichever writer inserts them."""

from __future__ import annotations

import time

from proxy import store
from proxy.store import pg


def test_an_insert_wakes_the_listener_and_silence_times_out(postgres_url: str) -> None:
    pg.connect(postgres_url).close()
    listener = pg.Listener(postgres_url)
    try:
        assert listener.wait(0.1)  # the first call starts listening: look once
        started = time.monotonic()
        assert not listener.wait(0.3)
        assert time.monotonic() - started >= 0.25
        writer = pg.connect(postgres_url)
        row = {"id": "e1", "session": "s", "started_at": 1.0}
        store.write_rows(writer, store.Rows([row], [], []))  # type: ignore[arg-type]
        writer.close()
        started = time.monotonic()
        assert listener.wait(10.0)
        assert time.monotonic() - started < 5.0
    finally:
        listener.close()


def test_a_lost_server_is_not_an_error(postgres_url: str) -> None:
    from tests.servers import free_port

    listener = pg.Listener(f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    assert listener.wait(0.05)  # fall back to looking
    listener.close()
