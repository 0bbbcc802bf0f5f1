"""Where the proxy's CPU goes under load: py-spy samples of the proxy process, by owner.

Runs the bench upstream and one proxy variant (`rec`, `norec`, as in `bench/run.py`),
drives it with wrk at 16 connections with the bench mix, and records the proxy process
(its own threads; not the writer) with py-spy. Each sample is charged to the innermost
frame that belongs to an owner — a hubscope package (`proxy/capture`, `proxy/redact`,
`proxy/recording`, …), aiohttp, multidict/yarl, the event loop (uvloop/asyncio) — so a
json or hashlib call made by hubscope counts as hubscope's. Prints one markdown table per
variant and writes the figures as JSON.

    .venv/bin/python bench/profile_proxy.py --seconds 10 --json bench/results/profile.json

Needs py-spy (`make bench` installs it into .deps/mitm-venv) and wrk.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import time
from pathlib import Path

import run

PY_SPY = run.ROOT / ".deps" / "mitm-venv" / "bin" / "py-spy"
OWNERS = (
    ("proxy/capture/", "hubscope: forwarding (proxy/capture)"),
    ("proxy/redact/", "hubscope: redaction (proxy/redact)"),
    ("proxy/recording/", "hubscope: journal (proxy/recording)"),
    ("proxy/store/", "hubscope: capture cut (proxy/store)"),
    ("proxy/", "hubscope: other"),
    ("aiohttp/", "aiohttp"),
    ("multidict/", "aiohttp (multidict, yarl)"),
    ("yarl/", "aiohttp (multidict, yarl)"),
    ("uvloop/", "event loop (uvloop, asyncio)"),
    ("asyncio/", "event loop (uvloop, asyncio)"),
)


def owner(stack: list[str]) -> str:
    """The owner of a sample: the innermost frame some owner claims (leaf first)."""
    for frame in reversed(stack):
        where = frame.rsplit("(", 1)[-1]
        if "threading.py" in where and "wait" in frame:
            return "threads waiting (fsync, writer monitor)"
        for prefix, name in OWNERS:
            if prefix in where:
                return name
    return "other (stdlib, interpreter)"


def profile(name: str, up: int, lua: Path, seconds: float, raw: Path) -> dict[str, object]:
    port = run.free_port()
    cmd, store = run.variant_cmd(name, up, port, f"profile-{name}")
    if store is not None:
        run.remove_files(store)
    with run.started(cmd, run.WORK / f"profile-{name}.log") as proc:
        run.wait_ready(port, proc)
        run.wrk(port, run.CONNS, 2, lua)
        cpu0 = run.cpu_seconds(proc.pid)
        own0 = _own_cpu(proc.pid)
        spy = subprocess.Popen(
            [str(PY_SPY), "record", "-p", str(proc.pid), "-r", "200", "-d", str(int(seconds)),
             "-f", "raw", "-o", str(raw), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        load = run.wrk(port, run.CONNS, seconds, lua)
        spy.wait(timeout=seconds + 60)
        own = (_own_cpu(proc.pid) - own0) * 1e6 / load["requests"]
        family = (run.cpu_seconds(proc.pid) - cpu0) * 1e6 / load["requests"]
    if store is not None:
        run.remove_files(store)
    shares: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        shares[owner(stack.split(";"))] += int(count)
    total = sum(shares.values()) or 1
    return {
        "variant": name,
        "rps": round(load["rps"]),
        "proxy_cpu_us_per_req": round(own),
        "with_writer_cpu_us_per_req": round(family),
        "samples": total,
        "shares": {k: round(v / total, 3) for k, v in shares.most_common()},
    }


def _own_cpu(pid: int) -> float:
    """The proxy process's own CPU (all its threads), without its writer process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / run.os.sysconf("SC_CLK_TCK")


def table(result: dict[str, object]) -> str:
    shares = result["shares"]
    assert isinstance(shares, dict)
    own = float(result["proxy_cpu_us_per_req"])  # type: ignore[arg-type]
    lines = [
        f"`{result['variant']}`: {result['rps']:,} req/s at {run.CONNS} connections; proxy "
        f"process {own:,.0f} µs CPU per request (with its writer "
        f"{result['with_writer_cpu_us_per_req']:,} µs); {result['samples']:,} samples",
        "",
        "| owner | share of samples | ≈ µs per request |",
        "|---|---:|---:|",
    ]
    lines += [f"| {k} | {v * 100:.1f} % | {v * own:,.0f} |" for k, v in shares.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--variants", default="norec,rec")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    if not PY_SPY.exists():
        sys.exit(f"{PY_SPY} missing: run `make bench` once (it installs py-spy)")
    run.WORK.mkdir(parents=True, exist_ok=True)
    lua = run.write_lua()
    up = run.free_port()
    results = []
    with run.started(
        [str(run.PY), str(run.BENCH / "upstream.py"), "--port", str(up)],
        run.WORK / "profile-upstream.log",
    ) as upstream:
        run.wait_ready(up, upstream)
        for name in args.variants.split(","):
            result = profile(name, up, lua, args.seconds, run.WORK / f"profile-{name}.txt")
            results.append(result)
            print(table(result), "\n", flush=True)
    args.json.write_text(json.dumps({"at": time.time(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
