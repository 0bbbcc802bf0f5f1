"""The session's pictures count what the database holds, bar by bar."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from aiohttp.test_utils import TestClient

from proxy import store
from viewer import charts, sample


def test_status_mix_and_latency_count_every_exchange(triage_db: Path) -> None:
    db = store.connect(triage_db, readonly=True)
    try:
        mix = charts.status_mix(db, "demo")
        by_class = Counter()
        for bar in mix.bars:
            by_class[bar.cls] += bar.count
        assert by_class == {"c-2xx": 7, "c-4xx": 2, "c-5xx": 1}
        assert [(c, n) for _, c, n in mix.legend] == [("2xx", 7), ("4xx", 2), ("5xx", 1)]
        assert all(0 <= b.x and b.x + b.w <= charts.WIDTH and b.h > 0 for b in mix.bars)
        spread = charts.latency(db, "demo")
        assert [(b.count, b.title) for b in spread.bars] == [(10, "<20 ms: 10 exchanges")]
        assert charts.status_mix(db, "nope").bars == []
    finally:
        db.conn.close()


def test_waterfall_has_one_linked_bar_per_call() -> None:
    calls = [{"id": f"e{i}", "started_at": 100.0 + i, "duration_ms": 250.0, "status": s,
              "method": "GET", "operation": "read_registration"}
             for i, s in enumerate([200, 404, None])]  # fmt: skip
    chart = charts.waterfall(calls)
    assert [(b.cls, b.href) for b in chart.bars] == [
        ("c-2xx", "/exchanges/e0"), ("c-4xx", "/exchanges/e1"), ("c-failed", "/exchanges/e2")]
    xs = [b.x for b in chart.bars]
    assert xs == sorted(xs) and chart.bars[0].w > 3


async def test_session_page_draws_the_charts(triage: TestClient) -> None:
    page = await (await triage.get("/api/sessions/demo")).json()
    mix = next(c for c in page["charts"] if c["name"] == "status-mix")
    assert sum(b["count"] for b in mix["bars"]) == 10
    html = await (await triage.get("/sessions/demo")).text()
    assert html.count('<rect class="bar c-') == len(mix["bars"]) + 1  # + the latency bar
    url = f"/api/devices/timeline?installation_id={sample.INSTALLATION_ID}"
    timeline = await (await triage.get(url)).json()
    assert len(timeline["waterfall"]["bars"]) == len(timeline["entries"]) == 2
