"""The audit's figures: exchanges/s on a recorded database, and peak RSS on 1,000,000.

1. Records `--n` exchanges (default 50,000) of the bench traffic (`payloads.py`: SDK
   registration POSTs and installation PUTs) through the recorder's row builder
   (`proxy.store.rows.build`: redaction, decoding, device rows and the findings judged at
   ingest), written with the writer's `store.write_rows`, in one session.
2. Times `hubscope audit --format json --read-only` over it: warm (every exchange judged
   at ingest, the normal case) and cold (`findings_judged` emptied: every exchange decoded
   and judged again, as after a rule change or for a database of an older hubscope).
3. Grows the file to `--total` exchanges (default 1,000,000) by copying its rows in SQL
   (`insert … select` with new ids and later times: exchanges, devices, device tags,
   findings, judged marks; the copies without bodies, which a warm audit never reads),
   one session, and audits it again, warm, for peak RSS.

Each audit runs as its own process; its peak RSS is its own `ru_maxrss`, and on an SQLite
file its page reader (a second process, `proxy/audit/ahead.py`) is reported beside it
(`reader_*`); `cpu_seconds` counts both.

    .venv/bin/python bench/audit_scale.py --json bench/results/audit.json
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from exchanges import batched, finish, generate_exchanges, remove_database

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from proxy import store  # noqa: E402
from proxy.store import rows  # noqa: E402

SESSION = "bench-audit"
CHILD = """
import resource, sys
from proxy.cli import cli
try:
    cli.main(sys.argv[2:], prog_name="hubscope", standalone_mode=False)
except SystemExit:
    pass
finally:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    reader = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(sys.argv[1], "w") as out:
        out.write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime} "
                  f"{reader.ru_maxrss} {reader.ru_utime + reader.ru_stime}")
"""


def record(db: Path, n: int, batch: int = 1000) -> dict[str, float]:
    remove_database(db)
    conn = store.connect(db)
    store.ensure_session(conn, SESSION, kind="proxy")
    built = spent = 0.0
    for exchanges in batched(generate_exchanges(n, session=SESSION), batch):
        clock = time.perf_counter()
        out = rows.build(exchanges, body_cap=1 << 20, keys={})
        built += time.perf_counter() - clock
        clock = time.perf_counter()
        store.write_rows(conn, out)
        spent += time.perf_counter() - clock
    conn.conn.close()
    return {"rows_built_per_s": round(n / built), "rows_written_per_s": round(n / spent)}


def drop_copies(db: Path) -> None:
    """Remove the copies an interrupted run left (their ids carry a `-N` suffix)."""
    with sqlite3.connect(db) as conn:
        for table, key in TABLES:
            conn.execute(f"delete from {table} where instr({key}, '-') > 0")


TABLES = (("exchanges", "id"), ("devices", "exchange_id"), ("device_tags", "exchange_id"),
          ("findings", "exchange_id"), ("findings_judged", "exchange_id"))


def grow(db: Path, total: int) -> int:
    """Copy the file's recorded exchanges (and their rows) until it holds `total`.

    The recorded rows are those without a `-N` id suffix; they come first in each table,
    so each copy reads them by rowid range. A run interrupted while growing goes on."""
    conn = sqlite3.connect(db)
    conn.execute("pragma journal_mode = wal")
    upto = {
        table: conn.execute(
            f"select max(rowid) from {table} where instr({key}, '-') = 0"
        ).fetchone()[0] or 0
        for table, key in TABLES
    }  # fmt: skip
    base = conn.execute("select count(*) from exchanges where rowid <= ?", [upto["exchanges"]])
    base = base.fetchone()[0]
    held = conn.execute("select count(*) from exchanges").fetchone()[0]
    span = conn.execute(
        "select max(started_at) - min(started_at) + 1 from exchanges where rowid <= ?",
        [upto["exchanges"]],
    ).fetchone()[0]
    columns = [r[1] for r in conn.execute("pragma table_info(exchanges)")]
    picked = ", ".join(_copied(c) for c in columns)
    copy = held // base
    while base * (copy + 1) <= total:
        with conn:
            args = {"s": f"-{copy}", "t": span * copy}
            conn.execute(
                f"insert into exchanges ({', '.join(columns)}) select {picked} from exchanges"
                " where rowid <= :r", {**args, "r": upto["exchanges"]},
            )  # fmt: skip
            conn.execute(
                "insert into devices select id || :s, exchange_id || :s, direction, position, kind,"
                " source_type, platform, handle, registration_id, installation_id, user_id, tags,"
                " expiration, etag, push_variables, push_channel_expired, template_name,"
                " template_body, templates, extra, elements from devices where rowid <= :r",
                {"s": args["s"], "r": upto["devices"]},
            )
            conn.execute(
                "insert into device_tags select device_id || :s, exchange_id || :s, tag"
                " from device_tags where rowid <= :r", {"s": args["s"], "r": upto["device_tags"]},
            )  # fmt: skip
            conn.execute(
                "insert into findings select exchange_id || :s, position, rule, severity, actual,"
                " pointer, expected, spec, source from findings where rowid <= :r",
                {"s": args["s"], "r": upto["findings"]},
            )
            conn.execute(
                "insert into findings_judged select exchange_id || :s, ruleset"
                " from findings_judged where rowid <= :r",
                {"s": args["s"], "r": upto["findings_judged"]},
            )
        copy += 1
        print(f"  grown to {base * copy:,}", flush=True)
    conn.execute("pragma wal_checkpoint(truncate)")
    conn.close()
    return base * copy


def _copied(column: str) -> str:
    """A copy's column: a new id, a later time, and no bodies (a judged exchange's bodies
    are never read by the audit; leaving them out keeps the 1M file small and quick)."""
    if column == "id":
        return "id || :s"
    if column == "started_at":
        return "started_at + :t"
    if column in ("request_body", "response_body"):
        return "null"
    return column


def audit(db: Path, exchanges: int, work: Path) -> dict[str, float]:
    peak = work / "audit-peak.txt"
    out = work / "audit-out.json"
    args = ["audit", "--db", str(db), "--format", "json", "--fail-on", "never", "--read-only"]
    start = time.perf_counter()
    with out.open("wb") as sink:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(peak), *args],
            stdout=sink, stderr=subprocess.PIPE, cwd=ROOT, check=False,
        )  # fmt: skip
    spent = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(proc.stderr.decode(errors="replace")[-2000:])
    found, tail = _count_findings(out)
    assert tail.endswith(f'"exchanges": {exchanges}}}'), tail
    maxrss, cpu, reader_maxrss, reader_cpu = peak.read_text().split()
    result = {
        "exchanges": exchanges,
        "seconds": round(spent, 2),
        "exchanges_per_s": round(exchanges / spent),
        "cpu_seconds": round(float(cpu) + float(reader_cpu), 2),
        "exchanges_per_cpu_s": round(exchanges / (float(cpu) + float(reader_cpu))),
        "judge_cpu_seconds": round(float(cpu), 2),
        "reader_cpu_seconds": round(float(reader_cpu), 2),
        "findings": found,
        "peak_rss_mb": round(int(maxrss) / 1024, 1),
        "reader_peak_rss_mb": round(int(reader_maxrss) / 1024, 1),
    }
    out.unlink()
    return result


def cold_audit(db: Path, n: int, work: Path) -> dict[str, float]:
    """The audit of a copy whose judged marks are gone: every exchange judged again."""
    cold = work / "audit-cold.db"
    cold.unlink(missing_ok=True)
    with sqlite3.connect(db) as source, sqlite3.connect(cold) as copy:
        source.backup(copy)
        copy.execute("delete from findings_judged")
    try:
        return audit(cold, n, work)
    finally:
        cold.unlink()


def _count_findings(path: Path) -> tuple[int, str]:
    """How many findings a `--format json` report lists, read in chunks (a 1,000,000
    exchange report is over 1 GB: parsing it whole would dwarf the audit's own memory)."""
    found, tail = 0, b""
    with path.open("rb") as report:
        while chunk := report.read(1 << 22):
            found += (tail[-15:] + chunk).count(b'{"exchange_id": ')
            tail = chunk
    return found, tail.decode(errors="replace").strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "work")
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--reuse", action="store_true", help="audit the file recorded before")
    parser.add_argument("--skip-cold", action="store_true")
    parser.add_argument("--only-total", action="store_true",
                        help="with --reuse: go on growing an interrupted run, audit the total")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    db = args.work / "audit.db"
    result: dict[str, object] = {"cpu": os.cpu_count(), "n": args.n}
    if args.reuse and db.exists():
        print(f"audit: reusing {db}", flush=True)
        if not args.only_total:
            drop_copies(db)
    else:
        print(f"audit: recording {args.n:,} exchanges → {db}", flush=True)
        result["record"] = record(db, args.n)
        print(f"  {result['record']}", flush=True)
    if not args.only_total:
        result["warm"] = audit(db, args.n, args.work)
        print(f"audit warm: {result['warm']}", flush=True)
    if not args.skip_cold and not args.only_total:
        result["cold"] = cold_audit(db, args.n, args.work)
        print(f"audit cold: {result['cold']}", flush=True)
    if args.total > args.n:
        print(f"audit: growing to {args.total:,} by copying rows in SQL …", flush=True)
        clock = time.perf_counter()
        total = grow(db, args.total)
        result["grow_seconds"] = round(time.perf_counter() - clock, 1)
        result["total"] = audit(db, total, args.work)
        print(f"audit total: {result['total']}", flush=True)
    finish(result, args.json, db)


if __name__ == "__main__":
    main()
