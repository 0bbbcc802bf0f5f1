"""Interleaved A/B of proxy command variants (used to measure hot-path changes).

    .venv/bin/python bench/ab.py ROUNDS SECONDS NAME=CMD_TEMPLATE ...

CMD_TEMPLATE gets {up}, {port} and {db} substituted. Prints per-variant medians of
req/s at 16 connections, p50/p99 at 1 connection and proxy CPU µs per request.
"""

from __future__ import annotations

import shlex
import statistics
import sys
import time

import run


def main() -> None:
    rounds, seconds = int(sys.argv[1]), float(sys.argv[2])
    variants = [arg.split("=", 1) for arg in sys.argv[3:]]
    run.WORK.mkdir(parents=True, exist_ok=True)
    lua = run.write_lua()
    stats: dict[str, list[tuple[float, ...]]] = {n: [] for n, _ in variants}
    up = run.free_port()
    with run.started(
        [str(run.PY), str(run.BENCH / "upstream.py"), "--port", str(up)],
        run.WORK / "ab-upstream.log",
    ) as upstream:
        run.wait_ready(up, upstream)
        for rnd in range(rounds):
            order = variants[rnd % len(variants) :] + variants[: rnd % len(variants)]
            for name, template in order:
                port = run.free_port()
                db = run.WORK / f"ab-{name}.db"
                run.remove_files(db)
                cmd = shlex.split(template.format(up=up, port=port, db=db))
                with run.started(cmd, run.WORK / f"ab-{name}.log") as proc:
                    run.wait_ready(port, proc)
                    run.wrk(port, 16, 1, lua)
                    cpu0 = run.cpu_seconds(proc.pid)
                    before = max(run.count_rows(db), 0)
                    c16 = run.wrk(port, 16, seconds, lua)
                    stored = run.count_rows(db) - before if db.exists() else -1
                    c1 = run.wrk(port, 1, seconds, lua)
                    cpu = (
                        (run.cpu_seconds(proc.pid) - cpu0)
                        * 1e6
                        / (c16["requests"] + c1["requests"])
                    )
                run.remove_files(db)
                writer = stored / (c16["duration_us"] / 1e6) if stored >= 0 else float("nan")
                row = (
                    c16["rps"],
                    c1["latency_us"]["p50"] / 1000,
                    c1["latency_us"]["p99"] / 1000,
                    cpu,
                    writer,
                )
                stats[name].append(row)
                print(
                    f"r{rnd} {name:14s} {row[0]:8.0f} req/s  p50@1 {row[1]:.2f} ms  "
                    f"p99@1 {row[2]:.2f} ms  {row[3]:.0f} µs CPU/req  "
                    f"stored {row[4]:.0f}/s during the 16-connection run",
                    flush=True,
                )
                time.sleep(0.2)
    print("medians:")
    for name, rows in stats.items():
        med = [statistics.median(col) for col in zip(*rows, strict=True)]
        print(
            f"  {name:14s} {med[0]:8.0f} req/s  p50@1 {med[1]:.2f} ms  p99@1 {med[2]:.2f} ms  "
            f"{med[3]:.0f} µs CPU/req  stored {med[4]:.0f}/s @16"
        )


if __name__ == "__main__":
    main()
