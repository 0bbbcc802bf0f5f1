"""The writer's cost per exchange, stage by stage, in one process (part of issue 15/16's record).

Builds N exchanges of `bench/payloads.py`'s mix (as `bench/scale.py` does), then times
each stage the proxy and the writer run, on CPU (`time.process_time`), one stage over the
whole list at a time:

    proxy side   submit's work: capture (cut, redact) + records.encode
    writer       records.check (its own process), then where rows are built:
                 records.decode, decode, rows and findings (a live backlog: without
                 findings, judged later), SQLite

    .venv/bin/python bench/writer_stages.py --n 6000 [--profile stage]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from exchanges import generate_exchanges  # noqa: E402

from proxy import store  # noqa: E402
from proxy.recording import records  # noqa: E402
from proxy.recording.prepare import collect_rarely  # noqa: E402
from proxy.recording.records import journal_payload  # noqa: E402
from proxy.store import rows  # noqa: E402


def timed(
    label: str,
    work: Callable[[], Any],
    n: int,
    out: dict[str, float],
    profile: str,
    rounds: int = 3,
) -> Any:
    """`work()`'s CPU per exchange, the best of `rounds` (the machine is shared)."""
    profiler = cProfile.Profile() if profile == label else None
    best = float("inf")
    for _ in range(1 if profiler is not None else rounds):
        start = time.process_time()
        if profiler is not None:
            profiler.enable()
        result = work()
        if profiler is not None:
            profiler.disable()
        best = min(best, time.process_time() - start)
    out[label] = best / n * 1e6
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--profile", default="")
    args = parser.parse_args()
    collect_rarely()  # as the writer and its workers do
    n, t0 = args.n, time.time()
    exchanges = list(generate_exchanges(n, session="bench-scale", t0=t0))
    us: dict[str, float] = {}
    payloads = timed(
        "proxy: capture + redact + encode",
        lambda: [journal_payload(ex, 1 << 20, {}) for ex in exchanges], n, us, args.profile,
    )  # fmt: skip
    captured = timed(
        "writer: records.decode", lambda: [records.decode(p) for p in payloads], n, us,
        args.profile,
    )  # fmt: skip

    def check_all() -> None:
        for payload in payloads:
            records.check(payload)

    timed("writer: records.check (the writer's own look)", check_all, n, us, args.profile)
    built = timed(
        "writer: rows (decode, device and tag rows, findings)",
        lambda: [rows.build_one(c, {}) for c in captured], n, us, args.profile,
    )  # fmt: skip
    unjudged = timed(
        "backlog: rows without findings (judged later)",
        lambda: [rows.build_one(c, {}, judge=False) for c in captured], n, us, args.profile,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as work:
        for label, batch in (("writer: SQLite", built), ("backlog: SQLite", unjudged)):
            db = store.connect(Path(work) / f"{label.split(':')[0]}.db")

            def write(db: Any = db, batch: list[Any] = batch) -> None:
                for at in range(0, n, args.batch):
                    store.write_batch(db, batch[at : at + args.batch], progress={"seg": at})

            timed(label, write, n, us, args.profile, rounds=1)
            db.conn.close()
    writer = sum(v for k, v in us.items() if k.startswith("writer"))
    backlog = sum(v for k, v in us.items() if k.startswith("backlog")) + sum(
        us[k] for k in ("writer: records.decode", "writer: records.check (the writer's own look)")
    )
    for label, value in us.items():
        print(f"{label:<45} {value:8.1f} µs")
    print(f"{'writer total':<45} {writer:8.1f} µs  (≤ {1e6 / writer:,.0f}/s on one core)")
    print(f"{'… for a backlog (judged later)':<45} {backlog:8.1f} µs  (≤ {1e6 / backlog:,.0f}/s)")


if __name__ == "__main__":
    main()
