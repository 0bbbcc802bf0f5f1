"""`make bench`: hubscope against mitmdump and against no proxy at all, side by side.

Starts one fast loopback upstream (bench/upstream.py) and, for each round, each
variant in a rotated order so drift hits all of them alike:

  direct      wrk → upstream                                  (the physical limit)
  rec         wrk → hubscope proxy (recording + decoding) → upstream
  norec       wrk → hubscope proxy --no-record → upstream
  mitmdump    wrk → mitmdump -q --mode reverse:… -w FILE → upstream

Each proxy is started fresh per round, warmed up, then measured with wrk
(16 connections for throughput and latency, then 1 connection for latency), its
peak RSS read from /proc (VmHWM), its CPU time per request from /proc/PID/stat,
and its bytes on disk per exchange. Medians over rounds go into a table and a
JSON file under bench/results/. Then the scale part: the writer's ingest of
1,000,000 exchanges and `hubscope audit` (bench/scale.py), and a 200,000-request
RSS soak through the recording proxy.

Configuration (environment): BENCH_QUICK=1 (a ~2-minute run), BENCH_ROUNDS,
BENCH_DURATION (s per wrk run), BENCH_WARMUP (s), BENCH_SCALE_N, BENCH_SOAK_N,
BENCH_VARIANTS (comma list), BENCH_SKIP_SCALE=1, BENCH_SKIP_SOAK=1, MITMDUMP, WRK.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import payloads

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / "work" / f"run-{os.getpid()}"
"""This run's scratch folder (databases, flow files, logs): concurrent runs never collide."""
RESULTS = BENCH / "results"
PY = ROOT / ".venv" / "bin" / "python"
HUBSCOPE = ROOT / ".venv" / "bin" / "hubscope"
MITMDUMP = Path(os.environ.get("MITMDUMP", ROOT / ".deps" / "mitm-venv" / "bin" / "mitmdump"))
WRK = os.environ.get("WRK", "wrk")
VARIANTS = ("direct", "rec", "norec", "rec2", "mitmdump")
LABELS = {
    "direct": "direct (no proxy)",
    "rec": "hubscope, recording on",
    "rec2": "hubscope, recording on, --workers 2",
    "norec": "hubscope, --no-record",
    "mitmdump": "mitmdump -w",
}

QUICK = os.environ.get("BENCH_QUICK") == "1"


def env_num(name: str, full: float, quick: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else (quick if QUICK else full)


ROUNDS = int(env_num("BENCH_ROUNDS", 3, 2))
DURATION = env_num("BENCH_DURATION", 10, 4)
WARMUP = env_num("BENCH_WARMUP", 2, 1)
SCALE_N = int(env_num("BENCH_SCALE_N", 1_000_000, 50_000))
SOAK_N = int(env_num("BENCH_SOAK_N", 200_000, 20_000))
CONNS = 16

TARGETS = {
    "vs_mitmdump": 8.0,
    "vs_direct": 0.33,
    "added_p50_ms": 0.3,
    "cpu_us_per_req": 250.0,
    "audit_rss_mb": 500.0,
    "recording_cost": 0.10,
    "writer_rate": 5000.0,
    "audit_rate": 20000.0,
    "soak_growth_mb": 20.0,
}


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def started(cmd: list[str], log: Path, **kw: Any) -> Iterator[subprocess.Popen[bytes]]:
    """A process in its own process group, always stopped (SIGINT, SIGTERM, SIGKILL)."""
    sink = log.open("ab")
    proc = subprocess.Popen(
        cmd, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT, **kw
    )
    try:
        yield proc
    finally:
        stop(proc)
        sink.close()


def stop(proc: subprocess.Popen[bytes], grace: float = 60.0) -> float:
    """Stop a process group gracefully; seconds it took to exit."""
    start = time.perf_counter()
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    return time.perf_counter() - start


def wait_ready(port: int, proc: subprocess.Popen[bytes] | None, timeout: float = 30.0) -> None:
    """Until a real request through `port` is answered 200."""
    method, path, headers, body = payloads.installation_request(0)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited early ({proc.returncode}): {proc.args}")
        try:
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}", data=body, headers=headers, method=method
            )
            with urllib.request.urlopen(req, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered on port {port} within {timeout}s")


def proc_status(pid: int) -> dict[str, int]:
    """VmHWM/VmRSS in kB."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            out[key] = int(value.split()[0])
    return out


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process and of all its live descendants (writer processes;
    `--workers` processes and their writers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[str, tuple[str, int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[stat.parent.name] = (fields[1], int(fields[11]) + int(fields[12]))  # ppid, cpu
    family = {str(pid)}
    grew = True
    while grew:
        grew = False
        for child, (parent, _) in stats.items():
            if parent in family and child not in family:
                family.add(child)
                grew = True
    return sum(cpu for name, (_, cpu) in stats.items() if name in family) / ticks


# ---------------------------------------------------------------- wrk


def write_lua() -> Path:
    specs = []
    for n in range(200):
        method, path, headers, body = payloads.request(n)
        hdrs = ", ".join(f"[ {lua_str(k)} ] = {lua_str(v)}" for k, v in headers.items())
        specs.append(
            f"  {{{lua_str(method)}, {lua_str(path)}, {{{hdrs}}}, {lua_str(body.decode())}}},"
        )
    text = (BENCH / "mix.lua.in").read_text().replace("@@SPECS@@", "\n".join(specs))
    path = WORK / "mix.lua"
    path.write_text(text)
    return path


def lua_str(value: str) -> str:
    return "[==[" + value + "]==]"


def wrk(port: int, conns: int, seconds: float, lua: Path) -> dict[str, Any]:
    cmd = [
        WRK,
        "-t1",
        f"-c{conns}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(lua),
        f"http://127.0.0.1:{port}",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    for line in out.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            data: dict[str, Any] = json.loads(line[len("BENCHJSON ") :])
            data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
            data["error_count"] = sum(data["errors"].values())
            return data
    raise RuntimeError(f"wrk printed no result: {out.stdout}\n{out.stderr}")


# ---------------------------------------------------------------- variants


def variant_cmd(name: str, up: int, port: int, tag: str) -> tuple[list[str], Path | None]:
    upstream = f"http://127.0.0.1:{up}"
    if name == "rec2":
        cmd, db = variant_cmd("rec", up, port, tag)
        return [*cmd, "--workers", "2"], db
    proxy = [str(HUBSCOPE), "proxy", "--upstream", upstream, "--listen", f"127.0.0.1:{port}"]
    if name == "rec":
        db = WORK / f"{tag}.db"
        return [*proxy, "--db", str(db), "--session", tag], db
    if name == "norec":
        return [*proxy, "--no-record"], None
    if name == "mitmdump":
        flows = WORK / f"{tag}.flows"
        return [
            str(MITMDUMP),
            "-q",
            "--mode",
            f"reverse:{upstream}@{port}",
            "--listen-host",
            "127.0.0.1",
            "-w",
            str(flows),
        ], flows
    raise ValueError(name)


def remove_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def disk_bytes(path: Path) -> int:
    return sum(
        Path(f"{path}{s}").stat().st_size
        for s in ("", "-wal", "-shm")
        if Path(f"{path}{s}").exists()
    )


def measure(name: str, up: int, lua: Path, rnd: int) -> dict[str, Any]:
    result: dict[str, Any] = {"variant": name, "round": rnd}
    if name == "direct":
        runs = [
            wrk(up, CONNS, WARMUP, lua),
            wrk(up, CONNS, DURATION, lua),
            wrk(up, 1, DURATION, lua),
        ]
        result.update(c16=runs[1], c1=runs[2])
        return result
    port = free_port()
    tag = f"{name}-r{rnd}"
    cmd, store = variant_cmd(name, up, port, tag)
    if store is not None:
        remove_files(store)
    log = WORK / f"{tag}.log"
    log.unlink(missing_ok=True)
    with started(cmd, log) as proc:
        wait_ready(port, proc)
        warm = wrk(port, CONNS, WARMUP, lua)
        cpu0 = cpu_seconds(proc.pid)
        c16 = wrk(port, CONNS, DURATION, lua)
        c1 = wrk(port, 1, DURATION, lua)
        sent = 1 + warm["requests"] + c16["requests"] + c1["requests"]
        if store is not None and name in ("rec", "rec2"):
            result["catch_up_s"] = round(wait_stored(store, sent), 2)
        cpu1 = cpu_seconds(proc.pid)  # after the catch-up: a writer that lags still counts
        status = proc_status(proc.pid)
        result["drain_s"] = round(stop(proc), 2)
        result["exit_code"] = proc.returncode
    result.update(
        c16=c16,
        c1=c1,
        peak_rss_mb=round(status["VmHWM"] / 1024, 1),
        cpu_us_per_req=round((cpu1 - cpu0) * 1e6 / (c16["requests"] + c1["requests"]), 1),
        requests_sent=sent,
    )
    if store is not None and name in ("rec", "rec2"):
        conn = sqlite3.connect(store)
        rows = conn.execute("select count(*) from exchanges").fetchone()[0]
        conn.close()
        result.update(stored=rows, disk_bytes=disk_bytes(store))
        result["bytes_per_exchange"] = round(result["disk_bytes"] / max(rows, 1), 1)
    elif store is not None:
        result.update(stored=sent, disk_bytes=store.stat().st_size)
        result["bytes_per_exchange"] = round(result["disk_bytes"] / sent, 1)
    if store is not None:
        remove_files(store)
    return result


def soak(up: int, lua: Path, rps_hint: float) -> dict[str, Any]:
    """SOAK_N requests through the recording proxy at 16 connections.

    wrk runs in fixed-duration chunks sized from the measured rate (about a tenth of
    SOAK_N each; at most 20 per half), RSS and the writer's backlog read after each.
    After half and after all the requests the bench waits for the writer to catch up
    and reads RSS again: the difference between those two is per-exchange growth (a
    leak); the climb between them while traffic outruns the writer is the queue.
    """
    port = free_port()
    tag = "soak"
    cmd, store = variant_cmd("rec", up, port, tag)
    assert store is not None
    remove_files(store)
    log = WORK / "soak.log"
    log.unlink(missing_ok=True)
    chunk_s = min(60.0, max(2.0, SOAK_N / 10 / max(rps_hint, 1.0)))
    if os.environ.get("BENCH_SOAK_CHUNK_S"):
        chunk_s = float(os.environ["BENCH_SOAK_CHUNK_S"])
    samples: list[dict[str, Any]] = []
    drained: list[dict[str, Any]] = []
    total = 1  # the readiness request
    start = time.perf_counter()
    with started(cmd, log) as proc:
        wait_ready(port, proc)
        for half in (SOAK_N // 2, SOAK_N):
            for _ in range(20):
                if total >= half:
                    break
                run = wrk(port, CONNS, chunk_s, lua)
                total += run["requests"]
                samples.append(soak_sample(proc.pid, store, total, start, run))
                s = samples[-1]
                print(
                    f"  soak {total:>8,} requests  RSS {s['rss_mb']:6.1f} MB  "
                    f"{run['rps']:,.0f} req/s  stored {s['stored']:,} "
                    f"(backlog {s['backlog']:,})",
                    flush=True,
                )
            drained.append(wait_for_writer(proc.pid, store, total, start))
            d = drained[-1]
            print(
                f"  soak drained at {total:,}: RSS {d['rss_mb']:.1f} MB, stored "
                f"{d['stored']:,} after {d['waited_s']} s",
                flush=True,
            )
        drain = stop(proc)
    rows = count_rows(store)
    remove_files(store)
    rss = [s["rss_mb"] for s in samples]
    # Writer rate inside the proxy under load: rows stored per second over the soak.
    writer_rate = (
        (samples[-1]["stored"] - samples[0]["stored"])
        / max(samples[-1]["t"] - samples[0]["t"], 1e-9)
        if len(samples) > 1
        else float("nan")
    )
    return {
        "requests": total,
        "seconds": round(time.perf_counter() - start, 1),
        "chunk_s": round(chunk_s, 1),
        "stored": rows,
        "drain_s": round(drain, 2),
        "samples": samples,
        "drained": drained,
        "rss_first_mb": rss[0],
        "rss_last_mb": rss[-1],
        "rss_max_mb": max(rss),
        "growth_mb": round(max(rss) - rss[0], 1),
        # Per-exchange growth: RSS with the writer caught up, after half and after all.
        "growth_between_drains_mb": round(drained[-1]["rss_mb"] - drained[0]["rss_mb"], 1),
        "proxy_accept_rate": round(statistics.median([s["rps"] for s in samples])),
        "writer_rate_in_proxy": round(writer_rate, 1),
    }


def wait_for_writer(pid: int, store: Path, total: int, start: float) -> dict[str, Any]:
    """Wait (at most 600 s, or 15 s without progress) until every answer is stored."""
    wait_start = time.perf_counter()
    last, last_change = -1, time.perf_counter()
    while time.perf_counter() - wait_start < 600:
        stored = count_rows(store)
        if stored >= total:
            break
        if stored != last:
            last, last_change = stored, time.perf_counter()
        elif time.perf_counter() - last_change > 15:
            break
        time.sleep(1)
    sample = soak_sample(pid, store, total, start, None)
    sample["waited_s"] = round(time.perf_counter() - wait_start, 1)
    return sample


def wait_stored(store: Path, sent: int, limit: float = 180.0) -> float:
    """Seconds until the writer has stored and judged `sent` exchanges (it runs at a lower
    CPU priority than the proxy, so under load it lags and catches up after; a backlog is
    stored first and judged when traffic pauses, which counts too)."""
    start = time.perf_counter()
    while (count_rows(store) < sent or count_unjudged(store) != 0) and (
        time.perf_counter() - start < limit
    ):
        time.sleep(0.1)
    return time.perf_counter() - start


def count_unjudged(store: Path) -> int:
    """Decoded exchanges without findings yet (`proxy/store/judge_later.py`); -1 unreadable."""
    try:
        conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30)
        try:
            decoded = "select count(*) from exchanges where operation is not null"
            judged = "select count(*) from findings_judged"
            return int(conn.execute(decoded).fetchone()[0] - conn.execute(judged).fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return -1


def count_rows(store: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30)
        try:
            return int(conn.execute("select count(*) from exchanges").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return -1


def soak_sample(
    pid: int, store: Path, total: int, start: float, run: dict[str, Any] | None
) -> dict[str, Any]:
    status = proc_status(pid)
    stored = count_rows(store)
    return {
        "t": round(time.perf_counter() - start, 2),
        "requests": total,
        "stored": stored,
        "backlog": total - stored,
        "rss_mb": round(status["VmRSS"] / 1024, 1),
        "hwm_mb": round(status["VmHWM"] / 1024, 1),
        "rps": round(run["rps"]) if run else None,
        "errors": run["error_count"] if run else None,
    }


# ---------------------------------------------------------------- report


def med(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def summarize(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name in VARIANTS:
        mine = [r for r in runs if r["variant"] == name]
        if not mine:
            continue
        s: dict[str, Any] = {"rounds": len(mine), "rps_c16": med([r["c16"]["rps"] for r in mine])}
        for conns in ("c1", "c16"):
            for p in ("p50", "p95", "p99"):
                s[f"{p}_ms_{conns}"] = med([r[conns]["latency_us"][p] / 1000 for r in mine])
        s["rps_all"] = [round(r["c16"]["rps"]) for r in mine]
        s["errors"] = sum(r["c16"]["error_count"] + r["c1"]["error_count"] for r in mine)
        for key in ("peak_rss_mb", "cpu_us_per_req", "bytes_per_exchange", "drain_s", "catch_up_s"):
            vals = [r[key] for r in mine if key in r]
            s[key] = med(vals) if vals else None
        out[name] = s
    return out


def ratios(summary: dict[str, dict[str, Any]]) -> dict[str, Any]:
    def get(v: str, k: str) -> float:
        return float(summary.get(v, {}).get(k, float("nan")))

    return {
        "vs_mitmdump": get("rec", "rps_c16") / get("mitmdump", "rps_c16"),
        "norec_vs_mitmdump": get("norec", "rps_c16") / get("mitmdump", "rps_c16"),
        "vs_direct": get("rec", "rps_c16") / get("direct", "rps_c16"),
        "added_p50_ms": get("rec", "p50_ms_c1") - get("direct", "p50_ms_c1"),
        "added_p50_ms_norec": get("norec", "p50_ms_c1") - get("direct", "p50_ms_c1"),
        "rec_over_norec": get("rec", "rps_c16") / get("norec", "rps_c16"),
        "recording_cost": 1 - get("rec", "rps_c16") / get("norec", "rps_c16"),
        "cpu_rec_over_norec": get("rec", "cpu_us_per_req") / get("norec", "cpu_us_per_req"),
        "workers2_over_rec": get("rec2", "rps_c16") / get("rec", "rps_c16"),
    }


def fmt(value: Any, spec: str = ",.0f") -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    return format(value, spec)


def cpu_ratio(summary: dict[str, dict[str, Any]], name: str) -> float:
    try:
        return float(summary["mitmdump"]["cpu_us_per_req"]) / float(summary[name]["cpu_us_per_req"])
    except (KeyError, TypeError, ZeroDivisionError):
        return float("nan")


def table(result: dict[str, Any]) -> str:
    summary, r = result["summary"], result["ratios"]
    lines = [
        f"Rounds: {result['config']['rounds']} × {result['config']['duration_s']:g} s per wrk run "
        f"(medians), {CONNS} connections for req/s; machine: {result['machine']['cpu']} "
        f"× {result['machine']['cores']}, "
        f"load average at start {result['machine']['loadavg_start']}.",
        "",
        "| variant | req/s @16 | p50 / p95 / p99 ms @1 | p50 / p95 / p99 ms @16 "
        "| peak RSS MB | proxy CPU µs/req | bytes on disk/exchange | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in summary.items():
        lat1 = " / ".join(fmt(s[f"{p}_ms_c1"], ".2f") for p in ("p50", "p95", "p99"))
        lat16 = " / ".join(fmt(s[f"{p}_ms_c16"], ".2f") for p in ("p50", "p95", "p99"))
        lines.append(
            f"| {LABELS[name]} | {fmt(s['rps_c16'])} | {lat1} | {lat16} | "
            f"{fmt(s['peak_rss_mb'], '.1f')} | {fmt(s['cpu_us_per_req'])} | "
            f"{fmt(s['bytes_per_exchange'])} | {s['errors']} |"
        )

    def verdict(ok: bool | None) -> str:
        return "—" if ok is None else ("met" if ok else "**missed**")

    def check(value: float, target: float, higher: bool) -> bool | None:
        if value != value:
            return None
        return value >= target if higher else value <= target

    scale = result.get("scale") or {}
    ingest = scale.get("ingest") or {}
    audit = scale.get("audit") or {}
    soak_r = result.get("soak") or {}
    writer = ingest.get("rate", float("nan"))
    audit_rate = audit.get("rate", float("nan")) if audit.get("measured") else float("nan")
    subset = scale.get("audit_subset") or {}
    subset_rate = subset.get("rate", float("nan")) if subset.get("measured") else float("nan")
    growth = soak_r.get("growth_mb", float("nan"))
    rec = summary.get("rec") or {}
    rows = [
        (
            "hubscope (recording) / mitmdump throughput",
            f"{fmt(r['vs_mitmdump'], '.2f')}×",
            "≥ 8×",
            check(r["vs_mitmdump"], TARGETS["vs_mitmdump"], True),
        ),
        (
            "… hubscope --no-record / mitmdump throughput",
            f"{fmt(r['norec_vs_mitmdump'], '.2f')}×",
            "(context)",
            None,
        ),
        (
            "… CPU per request, mitmdump / hubscope recording (off)",
            f"{fmt(cpu_ratio(summary, 'rec'), '.2f')}× "
            f"({fmt(cpu_ratio(summary, 'norec'), '.2f')}×)",
            "(context: insensitive to load)",
            None,
        ),
        (
            "proxy CPU per request, recording on, its writer included (after it caught up)",
            f"{fmt(rec.get('cpu_us_per_req'))} µs (writer caught up "
            f"{fmt(rec.get('catch_up_s'), '.1f')} s after the last request)",
            "≤ 250 µs",
            check(rec.get("cpu_us_per_req") or float("nan"), TARGETS["cpu_us_per_req"], False),
        ),
        (
            "hubscope (recording) / direct throughput",
            f"{fmt(r['vs_direct'], '.2f')}×",
            "≥ 0.33×",
            check(r["vs_direct"], TARGETS["vs_direct"], True),
        ),
        (
            "added p50 latency at 1 connection (recording − direct)",
            f"{fmt(r['added_p50_ms'], '+.2f')} ms",
            "≤ +0.3 ms",
            check(r["added_p50_ms"], TARGETS["added_p50_ms"], False),
        ),
        (
            "… added p50 latency at 1 connection, --no-record − direct",
            f"{fmt(r['added_p50_ms_norec'], '+.2f')} ms",
            "(context)",
            None,
        ),
        (
            "recording cost (1 − recording on / off throughput)",
            f"{fmt(r['recording_cost'] * 100, '.1f')} %",
            "≤ 10 %",
            check(r["recording_cost"], TARGETS["recording_cost"], False),
        ),
        (
            f"writer ingest, {fmt(ingest.get('exchanges'))} exchanges, decode included "
            f"(a backlog's findings after: {fmt(ingest.get('judged_later'))} judged in "
            f"{fmt(ingest.get('judged_later_seconds'), ',.1f')} s after the traffic)",
            f"{fmt(writer)} exchanges/s",
            "≥ 5,000/s",
            check(writer, TARGETS["writer_rate"], True),
        ),
        (
            "… writer CPU per exchange (journal read, decode, rows, SQLite with index), "
            "its row-building workers included",
            f"{fmt(ingest.get('writer_cpu_us_per_exchange'))} µs "
            f"(writer process alone {fmt(ingest.get('writer_main_cpu_us_per_exchange'))} µs, "
            f"row-building workers: {fmt(ingest.get('writer_workers'))}; judging the "
            f"backlog after: {fmt(ingest.get('judged_later_cpu_us_per_exchange'))} µs)",
            "≤ 200 µs",
            check(ingest.get("writer_cpu_us_per_exchange") or float("nan"), 200, False),
        ),
        (
            "`hubscope audit --format json`, all exchanges",
            f"{fmt(audit_rate)} exchanges/s"
            if audit.get("measured")
            else f"not measured ({audit.get('why', 'scale part skipped')})",
            "≥ 20,000/s",
            check(audit_rate, TARGETS["audit_rate"], True),
        ),
        (
            f"`hubscope audit --format json` peak RSS, {fmt(audit.get('exchanges'))} exchanges",
            f"{fmt(audit.get('peak_rss_mb'))} MB" if audit.get("measured") else "not measured",
            "≤ 500 MB",
            check(audit.get("peak_rss_mb") or float("nan"), TARGETS["audit_rss_mb"], False)
            if audit.get("measured")
            else None,
        ),
        (
            f"`hubscope audit --format json --session`, first {fmt(subset.get('exchanges'))}",
            f"{fmt(subset_rate)} exchanges/s, peak RSS {fmt(subset.get('peak_rss_mb'))} MB"
            if subset.get("measured")
            else f"not measured ({subset.get('why', 'skipped')})",
            "≥ 20,000/s",
            check(subset_rate, TARGETS["audit_rate"], True),
        ),
        (
            f"RSS growth per exchange over a {fmt(soak_r.get('requests'))}-request soak "
            "(writer caught up, after half vs after all)",
            f"{fmt(soak_r.get('growth_between_drains_mb'), '+.1f')} MB",
            "≤ 20 MB",
            check(
                soak_r.get("growth_between_drains_mb", float("nan")),
                TARGETS["soak_growth_mb"],
                False,
            ),
        ),
        (
            "RSS growth while traffic outruns the writer (16 connections, unbounded queue)",
            f"{fmt(growth, '+.1f')} MB ({fmt(soak_r.get('rss_first_mb'), '.1f')} → "
            f"{fmt(soak_r.get('rss_max_mb'), '.1f')} MB)",
            "≤ 20 MB",
            check(growth, TARGETS["soak_growth_mb"], False),
        ),
    ]
    lines += ["", "| ratio / figure | value | target | |", "|---|---:|---:|---|"]
    lines += [f"| {a} | {b} | {c} | {verdict(d)} |" for a, b, c, d in rows]
    if ingest:
        lines += [
            "",
            f"Scale: {fmt(ingest.get('rows'))} rows written in "
            f"{fmt(ingest.get('seconds'), ',.1f')} s "
            f"of writer time ({fmt(ingest.get('first_tenth_rate'))}/s over the first tenth, "
            f"{fmt(ingest.get('last_tenth_rate'))}/s over the last); database "
            f"{fmt(ingest.get('db_bytes', 0) / 1e6, ',.0f')} MB, "
            f"{fmt(ingest.get('bytes_per_exchange'))} bytes/exchange; "
            f"{fmt(ingest.get('decoded_rows'))} rows decoded, "
            f"{fmt(ingest.get('device_rows'))} device rows; writer peak RSS "
            f"{fmt(ingest.get('writer_peak_rss_mb'), ',.0f')} MB.",
        ]
    if soak_r:
        samples = ", ".join(
            f"{s['rss_mb']:.0f} ({fmt(s.get('backlog'))})" for s in soak_r["samples"]
        )
        drained = "; ".join(
            f"after {fmt(d['requests'])} requests and {d['waited_s']:.0f} s of catching up "
            f"{d['rss_mb']:.0f} MB"
            for d in soak_r.get("drained", [])
        )
        lines.append(
            f"Soak: RSS MB (writer backlog, exchanges) after each wrk chunk: {samples}. "
            f"The proxy answered {fmt(soak_r.get('proxy_accept_rate'))} req/s while its "
            f"writer stored {fmt(soak_r.get('writer_rate_in_proxy'))} exchanges/s. "
            f"RSS with the writer caught up: {drained}; {fmt(soak_r['stored'])} exchanges "
            "stored in all."
        )
    if result.get("scale_from"):
        lines.append(f"Scale figures from {result['scale_from']}.")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]

    def version(cmd: list[str]) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "unavailable"

    commit = version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(int(mem) / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": version([WRK, "-v"]),
        "mitmproxy": version([str(MITMDUMP), "--version"]),
        "hubscope_commit": commit,
        "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
    }


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds the context managers: every process is stopped


def main() -> int:
    if sys.argv[1:2] == ["--table"]:  # re-render the table of a results file
        print(table(json.loads(Path(sys.argv[2]).read_text())))
        return 0
    signal.signal(signal.SIGTERM, _terminate)
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if shutil.which(WRK) is None:
        sys.exit("wrk not found (make bench installs Debian's wrk)")
    wanted = [v for v in os.environ.get("BENCH_VARIANTS", ",".join(VARIANTS)).split(",") if v]
    if "mitmdump" in wanted and not MITMDUMP.exists():
        sys.exit(f"{MITMDUMP} not found (make bench installs mitmproxy into .deps/mitm-venv)")
    lua = write_lua()
    result: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "config": {
            "quick": QUICK,
            "rounds": ROUNDS,
            "duration_s": DURATION,
            "warmup_s": WARMUP,
            "connections": CONNS,
            "variants": wanted,
            "scale_n": SCALE_N,
            "soak_n": SOAK_N,
        },
        "machine": machine(),
        "targets": TARGETS,
    }
    t_start = time.perf_counter()
    runs: list[dict[str, Any]] = []
    up_port = free_port()
    with started(
        [str(PY), str(BENCH / "upstream.py"), "--port", str(up_port)], WORK / "upstream.log"
    ) as upstream:
        wait_ready(up_port, upstream)
        for rnd in range(ROUNDS):
            order = wanted[rnd % len(wanted) :] + wanted[: rnd % len(wanted)]
            for name in order:
                r = measure(name, up_port, lua, rnd)
                runs.append(r)
                print(
                    f"round {rnd + 1}/{ROUNDS} {LABELS[name]:<24} "
                    f"{r['c16']['rps']:>9,.0f} req/s @16  "
                    f"p50 {r['c1']['latency_us']['p50'] / 1000:.2f} ms @1  "
                    f"RSS {r.get('peak_rss_mb', '—')} MB",
                    flush=True,
                )
        result["runs"] = runs
        result["summary"] = summarize(runs)
        result["ratios"] = ratios(result["summary"])
        if os.environ.get("BENCH_SKIP_SOAK") != "1":
            print(f"soak: {SOAK_N:,} requests through the recording proxy", flush=True)
            result["soak"] = soak(
                up_port, lua, result["summary"].get("rec", {}).get("rps_c16", 1000.0)
            )
    if os.environ.get("BENCH_SCALE_FROM"):  # reuse the scale part of an earlier run
        earlier = json.loads(Path(os.environ["BENCH_SCALE_FROM"]).read_text())
        result["scale"] = earlier["scale"]
        result["scale_from"] = f"{Path(os.environ['BENCH_SCALE_FROM']).name} ({earlier['started']})"
    elif os.environ.get("BENCH_SKIP_SCALE") != "1":
        out = WORK / "scale.json"
        out.unlink(missing_ok=True)
        subprocess.run(
            [
                str(PY),
                str(BENCH / "scale.py"),
                "--n",
                str(SCALE_N),
                "--json",
                str(out),
                "--db",
                str(WORK / "scale.db"),
            ],
            cwd=ROOT,
            check=True,
            timeout=3600,
        )
        result["scale"] = json.loads(out.read_text())
    result["seconds"] = round(time.perf_counter() - t_start, 1)
    result["machine"]["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    text = table(result)
    result["table_markdown"] = text
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + ("-quick" if QUICK else "")
    path = RESULTS / f"{stamp}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / ("latest-quick.json" if QUICK else "latest.json")).write_text(
        json.dumps(result, indent=2) + "\n"
    )
    print()
    print(text)
    print(f"\n(written to {path.relative_to(ROOT)}; {result['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
