"""A paced soak: the recording proxy at a rate its writer keeps up with, RSS every 20 s.

Separates a leak from a backlog: with the queue empty, RSS must stay flat.
8 connections, 25 ms between a connection's requests (wrk's Lua delay()), 12 × 20 s.

    .venv/bin/python bench/paced_soak.py
"""

from __future__ import annotations

import run


def main() -> None:
    run.WORK.mkdir(parents=True, exist_ok=True)
    lua = run.write_lua()
    paced = lua.with_name("paced.lua")
    paced.write_text(lua.read_text() + "\nfunction delay()\n  return 25\nend\n")
    up = run.free_port()
    with run.started(
        [str(run.PY), str(run.BENCH / "upstream.py"), "--port", str(up)], run.WORK / "up.log"
    ) as upstream:
        run.wait_ready(up, upstream)
        port = run.free_port()
        cmd, store = run.variant_cmd("rec", up, port, "paced")
        assert store is not None
        with run.started(cmd, run.WORK / "paced.log") as proc:
            run.wait_ready(port, proc)
            total = 1
            for _ in range(12):
                result = run.wrk(port, 8, 20, paced)
                total += result["requests"]
                status = run.proc_status(proc.pid)
                stored = run.count_rows(store)
                print(
                    f"{total:>7} requests  {result['rps']:.0f} req/s  stored {stored}  "
                    f"backlog {total - stored}  RSS {status['VmRSS'] / 1024:.1f} MB",
                    flush=True,
                )
        run.remove_files(store)


if __name__ == "__main__":
    main()
