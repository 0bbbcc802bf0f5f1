"""`hubscope proxy --connection-string` without a key says signatures will not be checked."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from proxy.cli.proxy import NO_KEY_WARNING
from tests.servers import HUBSCOPE, REPO, free_port, wait_until_responds


@pytest.mark.parametrize(
    ("cs", "warned"),
    [
        ("Endpoint=sb://127.0.0.1:9/", True),
        ("Endpoint=sb://127.0.0.1:9/;SharedAccessKeyName=DefaultFullSharedAccessSignature", True),
        ("Endpoint=sb://127.0.0.1:9/;SharedAccessKeyName=n;SharedAccessKey=a2V5", False),
    ],
    ids=["no-key", "name-only", "with-key"],
)
def test_a_connection_string_without_a_key_warns(tmp_path: Path, cs: str, warned: bool) -> None:
    port = free_port()
    log = tmp_path / "stderr.txt"
    args = ["proxy", "--connection-string", cs, "--listen", f"127.0.0.1:{port}",
            "--db", str(tmp_path / "hubscope.db")]  # fmt: skip
    with log.open("wb") as stderr:
        proc = subprocess.Popen([*HUBSCOPE, *args], cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=stderr)  # fmt: skip
        try:
            wait_until_responds(f"http://127.0.0.1:{port}/", proc=proc)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    lines = log.read_text().splitlines()
    assert (NO_KEY_WARNING in lines) is warned
    assert "signatures will not be checked" in NO_KEY_WARNING
