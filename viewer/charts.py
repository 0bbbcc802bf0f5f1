"""Pictures drawn on the server as SVG: a session's status mix over time, its latency
histogram, and a waterfall of a device's calls.

Functions here return plain shapes (`Chart`); `templates/_chart.html` draws them. Colours
come from CSS classes, so both themes apply, and every bar carries its count (`data-count`,
a `<title>` tooltip) so the picture can be read by a test and a screen reader alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from viewer.templating import clock, duration

WIDTH, HEIGHT, PAD = 640, 180, 28
BUCKETS = 40
CLASSES = ("2xx", "3xx", "4xx", "5xx", "failed", "1xx")
LATENCY_EDGES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
"""Histogram bucket upper bounds in milliseconds (the last bucket is open)."""

_CLASS_SQL = (
    "case when status is null then 'failed' when status < 200 then '1xx'"
    " when status < 300 then '2xx' when status < 400 then '3xx'"
    " when status < 500 then '4xx' else '5xx' end"
)


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    cls: str
    count: int
    title: str
    href: str | None = None


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(slots=True)
class Chart:
    name: str
    title: str
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    legend: list[tuple[str, str, int]] = field(default_factory=list)
    """(css class, label, count)."""

    width: int = WIDTH
    height: int = HEIGHT

    def json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "legend": self.legend,
                "bars": [{"class": b.cls, "count": b.count, "title": b.title}
                         for b in self.bars]}  # fmt: skip


def status_mix(db: Database, session: str) -> Chart:
    """Stacked bars: exchanges per status class in equal slices of the session's time."""
    chart = Chart("status-mix", "Answers over time, by status class")
    first, last = db.conn.execute(
        "select min(started_at), max(started_at) from exchanges where session = ?", [session]
    ).fetchone()
    if first is None:
        return chart
    span = max(last - first, 1e-3)
    width = span / BUCKETS
    rows = db.conn.execute(
        f"select min(cast((started_at - ?) / ? as integer), {BUCKETS - 1}) as b,"
        f" {_CLASS_SQL} as cls, count(*) from exchanges where session = ? group by b, cls",
        [first, width, session],
    ).fetchall()
    counts: dict[int, dict[str, int]] = {}
    totals = dict.fromkeys(CLASSES, 0)
    for bucket, cls, n in rows:
        counts.setdefault(bucket, {})[cls] = n
        totals[cls] += n
    tallest = max(sum(c.values()) for c in counts.values())
    plot_h, slot = HEIGHT - 2 * PAD, (WIDTH - 2 * PAD) / BUCKETS
    for bucket in range(BUCKETS):
        y: float = HEIGHT - PAD
        start = first + bucket * width
        for cls in CLASSES:
            n = counts.get(bucket, {}).get(cls, 0)
            if not n:
                continue
            h = max(plot_h * n / tallest, 1.0)
            y -= h
            title = f"{clock(start)}–{clock(start + width)}: {n} × {cls}"
            chart.bars.append(Bar(PAD + bucket * slot + 1, y, max(slot - 2, 1), h, f"c-{cls}", n,
                                  title))  # fmt: skip
    chart.labels += [
        Label(PAD, HEIGHT - 8, clock(first), "start"),
        Label(WIDTH - PAD, HEIGHT - 8, clock(last), "end"),
        Label(PAD - 4, PAD + 4, str(tallest), "end"),
        Label(PAD - 4, HEIGHT - PAD, "0", "end"),
    ]
    chart.legend = [(f"c-{c}", c, n) for c, n in totals.items() if n]
    return chart


def latency(db: Database, session: str) -> Chart:
    """A histogram of answer times on a doubling scale."""
    chart = Chart("latency", "Answer time (ms)")
    cases = " ".join(f"when duration_ms < {edge} then {i}" for i, edge in enumerate(LATENCY_EDGES))
    rows = dict(db.conn.execute(
        f"select case {cases} else {len(LATENCY_EDGES)} end as b, count(*)"
        " from exchanges where session = ? and duration_ms is not null group by b",
        [session],
    ).fetchall())  # fmt: skip
    if not rows:
        return chart
    names = [f"<{e}" for e in LATENCY_EDGES] + [f"≥{LATENCY_EDGES[-1]}"]
    tallest = max(rows.values())
    plot_h, slot = HEIGHT - 2 * PAD, (WIDTH - 2 * PAD) / len(names)
    for i, name in enumerate(names):
        n = rows.get(i, 0)
        x = PAD + i * slot
        if n:
            h = max(plot_h * n / tallest, 1.0)
            chart.bars.append(Bar(x + 2, HEIGHT - PAD - h, slot - 4, h, "c-latency", n,
                                  f"{name} ms: {n} exchanges"))  # fmt: skip
        chart.labels.append(Label(x + slot / 2, HEIGHT - 10, name))
    chart.labels.append(Label(PAD - 4, PAD + 4, str(tallest), "end"))
    chart.legend = [("c-latency", "exchanges", sum(rows.values()))]
    return chart


def waterfall(calls: list[dict[str, Any]]) -> Chart:
    """One row per call: a bar from when it started for as long as it took, in time order."""
    row_h = 16
    chart = Chart("waterfall", "Calls over time", height=PAD + row_h * max(len(calls), 1) + 8)
    if not calls:
        return chart
    first = min(c["started_at"] for c in calls)
    end = max(c["started_at"] + (c.get("duration_ms") or 0) / 1000 for c in calls)
    span = max(end - first, 1e-3)
    label_w = 230
    plot_w = WIDTH - label_w - 8
    totals: dict[str, int] = {}
    for i, call in enumerate(calls):
        status = call.get("status")
        cls = _status_class(status)
        totals[cls] = totals.get(cls, 0) + 1
        x = label_w + plot_w * (call["started_at"] - first) / span
        w = max(plot_w * (call.get("duration_ms") or 0) / 1000 / span, 3.0)
        y = PAD + i * row_h
        text = f"{call.get('method')} {call.get('operation') or ''}".strip()
        shown = text if len(text) <= 28 else text[:27] + "…"
        chart.labels.append(Label(label_w - 6, y + 12, shown, "end"))
        chart.bars.append(Bar(min(x, WIDTH - 11), y + 2, w, row_h - 4, f"c-{cls}", 1,
                              f"{clock(call['started_at'])} {text}: "
                              f"{status or 'failed'}, {duration(call.get('duration_ms'))}",
                              f"/exchanges/{call['id']}"))  # fmt: skip
    chart.labels += [Label(label_w, 14, clock(first), "start"),
                     Label(WIDTH - 4, 14, clock(end), "end")]  # fmt: skip
    chart.legend = [(f"c-{c}", c, n) for c, n in totals.items()]
    return chart


def _status_class(status: int | None) -> str:
    if status is None:
        return "failed"
    return f"{str(status)[0]}xx"
