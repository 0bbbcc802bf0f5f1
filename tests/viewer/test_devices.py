"""The device index and the tag index: every device once, most recent first, with its counts."""

from __future__ import annotations

from pathlib import Path

from proxy import store
from viewer import sample
from viewer.analysis import Badges
from viewer.devices import device_index, tag_index
from viewer.filters import Filters, parse, parse_cursor


def index(path: Path, by: str = "handle", query: str = "", limit: int = 50, cursor=None):
    db = store.connect(path, readonly=True)
    try:
        return device_index(db, parse({"f": query}), by, cursor, limit, Badges())
    finally:
        db.conn.close()


def test_devices_by_handle_most_recent_first_with_counts(triage_db: Path) -> None:
    page = index(triage_db)
    assert [d["value"] for d in page.devices] == [
        sample.APNS_TOKEN, sample.FCM_TOKEN, sample.APNS_ROTATED]  # fmt: skip
    apns = page.devices[0]
    assert apns["platform"] == "apns" and apns["kind"] == "registration"
    # 9 from the stories, and the refused FcmRegistrationDescription that carries the same
    # token: its handle decodes since issue 20, so the device shows that failed call too.
    assert (apns["exchanges"], apns["errors"], apns["sessions"]) == (10, 1, 3)
    assert apns["tags"] == ["user:42"] and apns["last_status"] == 201
    fcm = page.devices[1]
    assert (fcm["installation_id"], fcm["exchanges"], fcm["errors"]) == (
        sample.INSTALLATION_ID, 6, 0)  # fmt: skip
    assert fcm["tags"] == ["user:42", "android", "vip"]


def test_installations_and_registrations(triage_db: Path) -> None:
    (inst,) = index(triage_db, "installation").devices
    assert (inst["value"], inst["exchanges"], inst["platform"]) == (
        sample.INSTALLATION_ID, 6, "fcmv1")  # fmt: skip
    regs = [d["value"] for d in index(triage_db, "registration").devices]
    assert regs == [sample.REG_ID_2, sample.REG_ID]


def test_pages_list_each_device_once(triage_db: Path) -> None:
    seen, cursor = [], None
    for _ in range(5):
        page = index(triage_db, limit=1, cursor=cursor)
        seen += [d["value"] for d in page.devices]
        if page.next_cursor is None:
            break
        cursor = parse_cursor(page.next_cursor)
    assert seen == [sample.APNS_TOKEN, sample.FCM_TOKEN, sample.APNS_ROTATED]


def test_the_filter_narrows_the_exchanges_devices_come_from(triage_db: Path) -> None:
    assert [d["value"] for d in index(triage_db, query="session:demo and method:put").devices] == [
        sample.FCM_TOKEN, sample.APNS_ROTATED]  # fmt: skip
    assert index(triage_db, query="tag:nothing").devices == []
    assert isinstance(Filters(), Filters)


def test_tags_in_order_with_device_counts(triage_db: Path) -> None:
    db = store.connect(triage_db, readonly=True)
    try:
        tags, after = tag_index(db, "", None, 100)
        assert [t["tag"] for t in tags] == [
            "android", "beta", "lang:en", "lang:fr", "user:42", "vip"]  # fmt: skip
        assert after is None
        user = next(t for t in tags if t["tag"] == "user:42")
        assert (user["devices"], user["installations"]) == (3, 1)
        assert user["platforms"] == ["apns", "fcmv1", "gcm"]
        first, after = tag_index(db, "", None, 2)
        assert [t["tag"] for t in first] == ["android", "beta"] and after == "beta"
        rest, _ = tag_index(db, "", after, 2)
        assert [t["tag"] for t in rest] == ["lang:en", "lang:fr"]
        langs, _ = tag_index(db, "lang:", None, 100)
        assert [t["tag"] for t in langs] == ["lang:en", "lang:fr"]
    finally:
        db.conn.close()
