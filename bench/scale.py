"""Scale part of `make bench`: the real writer's sustained ingest, then `hubscope audit`.

Fills a fresh database with N exchanges (default 1,000,000) through
`proxy.recording.writer_process.ProcessRecorder` exactly as the proxy does: each
`submit()` appends to the capture journal, the writer process follows it into SQLite
(SAS redaction, decoding, device and tag rows, the search index). Only the writer is
timed: exchanges are built in chunks outside the clock, appended with `submit()`, and
the clock runs until the writer has stored the whole chunk. Then it times
`hubscope audit --db … --format json` over the filled database, if that command
exists.

    .venv/bin/python bench/scale.py --n 1000000 --db bench/work/scale.db --json out.json
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from exchanges import (
    UPSTREAM_HOST,
    batched,
    database_bytes,
    finish,
    generate_exchanges,
    remove_database,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from proxy import compiled, store  # noqa: E402
from proxy.recording.writer_process import ProcessRecorder  # noqa: E402

SESSION = "bench-scale"
FIRST = "bench-scale-first"
"""The first AUDIT_SUBSET exchanges go to this session, so audit can also be timed on it."""
AUDIT_SUBSET = 100_000


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its threads (the writer uses two)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The writer's row-building workers (`proxy/recording/prepare.py`), while they run."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def family_cpu_seconds(pid: int) -> float:
    """CPU of the writer and of its workers (workers started since are counted from 0)."""
    total = cpu_seconds(pid)
    for child in children(pid):
        try:
            total += cpu_seconds(child)
        except OSError:
            continue  # a worker that just ended
    return total


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def ingest(db: Path, n: int, chunk: int) -> dict[str, object]:
    remove_database(db)
    first = store.connect(db)
    store.ensure_session(first, FIRST, kind="proxy", upstream=f"http://{UPSTREAM_HOST}")
    first.conn.close()
    subset = min(AUDIT_SUBSET, n // 10 or 1)
    recorder = ProcessRecorder(db, session=SESSION, upstream=f"http://{UPSTREAM_HOST}")
    recorder.start()
    t0 = time.time() - n / 1000
    writer_cpu = writer_main_cpu = writer_peak = 0.0
    workers = 0
    busy = 0.0
    slices: list[dict[str, float]] = []
    done = 0
    traffic = itertools.chain(
        generate_exchanges(subset, session=FIRST, t0=t0),
        generate_exchanges(n - subset, session=SESSION, start=subset, t0=t0),
    )
    try:
        for batch in batched(traffic, chunk):
            size = len(batch)
            target = recorder.written + size
            cpu_before = family_cpu_seconds(recorder.writer_pid)
            main_before = cpu_seconds(recorder.writer_pid)
            start = time.perf_counter()
            for ex in batch:
                recorder.submit(ex)
            del batch
            deadline = start + 600
            while recorder.written < target:
                if recorder.failure or time.perf_counter() > deadline:
                    raise RuntimeError(f"writer stalled: {recorder.failure}")
                time.sleep(0.002)
            spent = time.perf_counter() - start
            writer_cpu += family_cpu_seconds(recorder.writer_pid) - cpu_before
            writer_main_cpu += cpu_seconds(recorder.writer_pid) - main_before
            workers = max(workers, len(children(recorder.writer_pid)))
            writer_peak = peak_rss_mb(recorder.writer_pid)
            busy += spent
            done += size
            slices.append({"done": done, "rate": size / spent})
            if done % (n // 10 or 1) < chunk:
                print(f"  ingest {done:>9,} exchanges, {size / spent:,.0f}/s", flush=True)
        quiet = judged_in_the_quiet(db, recorder.writer_pid)
    finally:
        recorder.close()
    conn = sqlite3.connect(db)
    rows = conn.execute("select count(*) from exchanges").fetchone()[0]
    decoded = conn.execute("select count(*) from exchanges where operation is not null").fetchone()[
        0
    ]
    devices = conn.execute("select count(*) from devices").fetchone()[0]
    conn.close()
    size_bytes = database_bytes(db)
    tenth = max(1, len(slices) // 10)
    return {
        "exchanges": n,
        "rows": rows,
        "decoded_rows": decoded,
        "device_rows": devices,
        "seconds": round(busy, 2),
        "rate": round(n / busy, 1),
        "writer_cpu_us_per_exchange": round(writer_cpu / n * 1e6, 1),
        "writer_main_cpu_us_per_exchange": round(writer_main_cpu / n * 1e6, 1),
        "writer_workers": workers,
        "writer_cpu_bound_rate": round(n / writer_cpu, 1) if writer_cpu else None,
        "writer_peak_rss_mb": round(writer_peak, 1),
        "first_tenth_rate": round(sum(s["rate"] for s in slices[:tenth]) / tenth, 1),
        "last_tenth_rate": round(sum(s["rate"] for s in slices[-tenth:]) / tenth, 1),
        "min_chunk_rate": round(min(s["rate"] for s in slices), 1),
        "chunk": chunk,
        "db_bytes": size_bytes,
        "bytes_per_exchange": round(size_bytes / max(rows, 1), 1),
        "bench_process_rss_mb": round(rss_mb(), 1),
        "first_session_rows": subset,
        **quiet,
    }


def judged_in_the_quiet(db: Path, writer_pid: int) -> dict[str, object]:
    """A backlog is stored first and judged when traffic pauses
    (`proxy/store/judge_later.py`): how long that took after the last chunk was stored,
    and its CPU. The ingest rate above does not include it; this does."""
    conn = sqlite3.connect(db)
    decoded = "select count(*) from exchanges where operation is not null"
    judged = "select count(*) from findings_judged"
    cpu_before, start = family_cpu_seconds(writer_pid), time.perf_counter()
    left = conn.execute(decoded).fetchone()[0] - conn.execute(judged).fetchone()[0]
    while conn.execute(judged).fetchone()[0] < conn.execute(decoded).fetchone()[0]:
        if time.perf_counter() - start > 1200:
            raise RuntimeError("the writer did not judge its backlog in 20 minutes")
        time.sleep(0.05)
    spent = time.perf_counter() - start
    cpu = family_cpu_seconds(writer_pid) - cpu_before
    conn.close()
    print(f"  judged {left:,} stored unjudged in {spent:.1f} s after the last chunk", flush=True)
    return {
        "judged_later": left,
        "judged_later_seconds": round(spent, 2),
        "judged_later_cpu_us_per_exchange": round(cpu / left * 1e6, 1) if left else None,
    }


def _limit_memory() -> None:
    cap = int(float(os.environ.get("BENCH_AUDIT_MEM_GB", "6")) * (1 << 30))
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def audit(db: Path, rows: int, work: Path, session: str | None = None) -> dict[str, object]:
    hubscope = ROOT / ".venv" / "bin" / "hubscope"
    out = work / "audit-out.json"
    start = time.perf_counter()
    try:
        with out.open("wb") as sink:
            proc = subprocess.run(
                [
                    str(hubscope),
                    "audit",
                    "--db",
                    str(db),
                    "--format",
                    "json",
                    "--fail-on",
                    "never",
                    *(["--session", session] if session else []),
                ],
                preexec_fn=_limit_memory,
                stdout=sink,
                stderr=subprocess.PIPE,
                timeout=float(os.environ.get("BENCH_AUDIT_TIMEOUT", "1800")),
                cwd=ROOT,
            )
    except subprocess.TimeoutExpired as error:
        out.unlink(missing_ok=True)
        return {"measured": False, "why": f"did not finish within {error.timeout:.0f} s"}
    spent = time.perf_counter() - start
    size = out.stat().st_size
    out.unlink(missing_ok=True)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        return {
            "measured": False,
            "exchanges": rows,
            "why": f"hubscope audit exited {proc.returncode} after {spent:.0f} s"
            f" (memory capped at {os.environ.get('BENCH_AUDIT_MEM_GB', '6')} GB): "
            + (err[-1] if err else ""),
            "peak_rss_mb_so_far": round(peak_mb, 1),
        }
    return {
        "measured": True,
        "exchanges": rows,
        "seconds": round(spent, 2),
        "rate": round(rows / spent, 1),
        "output_bytes": size,
        "peak_rss_mb": round(peak_mb, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=20_000)
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "work" / "scale.db")
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--skip-audit", action="store_true")
    args = parser.parse_args()
    args.db.parent.mkdir(parents=True, exist_ok=True)
    decoders = (ROOT / "proxy" / "decode" / "__init__.py").exists()
    print(f"scale: {args.n:,} exchanges through the recorder → {args.db}", flush=True)
    print(f"  row building: {compiled.STATE}", flush=True)
    result: dict[str, object] = {"decoders_present": decoders, "row_building": compiled.STATE}
    result["ingest"] = ingest(args.db, args.n, args.chunk)
    rows = int(result["ingest"]["rows"])  # type: ignore[index]
    if args.skip_audit:
        result["audit"] = {"measured": False, "why": "skipped"}
    else:
        subset = int(result["ingest"]["first_session_rows"])  # type: ignore[index]
        print(f"scale: hubscope audit --format json, session of the first {subset:,} …", flush=True)
        result["audit_subset"] = audit(args.db, subset, args.db.parent, FIRST)
        print(f"  {result['audit_subset']}", flush=True)
        print(f"scale: hubscope audit --format json, all {rows:,} …", flush=True)
        result["audit"] = audit(args.db, rows, args.db.parent)
        print(f"  {result['audit']}", flush=True)
    finish(result, args.json, args.db)


if __name__ == "__main__":
    main()
