"""`hubscope demo` (what `make run` starts): its session kind, a second start, --headless."""

from __future__ import annotations

import subprocess
from pathlib import Path

from proxy import store
from tests.servers import HUBSCOPE, REPO, free_port, hubscope_process


def demo(db: Path, *ports: int, headless: bool = True) -> list[str]:
    hub, proxy, viewer = ports or (0, 0, 0)
    ports_args = ["--hub-port", str(hub), "--proxy-port", str(proxy), "--viewer-port", str(viewer)]
    return [*HUBSCOPE, "demo", *(["--headless"] if headless else []), "--db", str(db), *ports_args]


def test_headless_records_a_demo_session_and_says_how_to_look_at_it(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = subprocess.run(demo(db), cwd=REPO, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    conn = store.connect(db, readonly=True)
    [session] = conn.query("select * from sessions")
    conn.conn.close()
    assert session["kind"] == "demo" and session["upstream"].startswith("http://127.0.0.1:")
    out = result.stdout
    assert "open this" not in out and "Ctrl-C" not in out and "Your app can use" not in out
    lines = out.rstrip().splitlines()
    assert lines[-3:] == [
        "The hub, proxy and viewer stop now (--headless). Look at the recording with:",
        f"  hubscope view --db {db}",
        f"  hubscope audit --db {db} --session {session['name']}",
    ]
    audit = subprocess.run([*HUBSCOPE, *lines[-1].split()[1:]], cwd=REPO, capture_output=True,
                           text=True, timeout=120)  # fmt: skip
    assert audit.returncode == 1, audit.stderr  # the scenario's classic mistakes are errors
    assert "registration.fcm-root" in audit.stdout


def test_a_second_demo_on_the_same_ports_says_so_in_one_line(tmp_path: Path) -> None:
    ports = free_port(), free_port(), free_port()
    with hubscope_process(demo(tmp_path / "a.db", *ports, headless=False)[len(HUBSCOPE):],
                          url=f"http://127.0.0.1:{ports[2]}/"):  # fmt: skip
        second = subprocess.run(demo(tmp_path / "b.db", *ports, headless=False), cwd=REPO,
                                capture_output=True, text=True, timeout=120)  # fmt: skip
    assert second.returncode == 1
    assert second.stderr == (
        f"Error: cannot listen on 127.0.0.1:{ports[0]}: the address is in use — is the demo "
        "(make run) already running? Stop it with Ctrl-C, or run another on free ports: "
        "hubscope demo --hub-port 0 --proxy-port 0 --viewer-port 0\n"
    )
