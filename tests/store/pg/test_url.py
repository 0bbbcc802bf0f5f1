"""PostgreSQL URLs are recognised, and shown without their password."""

from __future__ import annotations

from pathlib import Path

from proxy.store.pg.url import display, is_url, scrub

URL = "postgresql://app:s3cr%40t@db.example:5432/hubscope"


def test_urls_and_paths() -> None:
    assert is_url(URL) and is_url("postgres://h/db") and is_url("POSTGRESQL://h/db")
    assert not is_url("hubscope.db") and not is_url(Path("postgresql:/x")) and not is_url(None)


def test_display_hides_only_the_password() -> None:
    assert display(URL) == "postgresql://app:***@db.example:5432/hubscope"
    assert display("postgresql://app@db/hubscope") == "postgresql://app@db/hubscope"


def test_scrub_takes_the_password_out_in_either_spelling() -> None:
    text = f"cannot connect to {URL}: password s3cr@t or s3cr%40t rejected"
    assert scrub(text, URL) == (
        "cannot connect to postgresql://app:***@db.example:5432/hubscope: "
        "password *** or *** rejected"
    )
