"""Run the official JS SDK (installed by `make node-deps`) against an endpoint."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

from tests.servers import REPO

REGISTRATION_KINDS = [
    "Apple",
    "AppleTemplate",
    "Adm",
    "AdmTemplate",
    "Baidu",
    "BaiduTemplate",
    "Browser",
    "BrowserTemplate",
    "Gcm",
    "GcmTemplate",
    "FcmV1",
    "FcmV1Template",
    "Windows",
    "WindowsTemplate",
    "Xiaomi",
    "XiaomiTemplate",
    "Mpns",
    "MpnsTemplate",
]
# JS 2.1.0 writes BaiduChannelId before BaiduUserId; both are required DataContract members,
# so the service (and the faithful local hub) refuses the body (real-clients.md §1c).
REFUSED = {"createRegistration Baidu", "createRegistration BaiduTemplate"}

NODE_DIR = REPO / ".deps" / "node"
SDK = NODE_DIR / "node_modules" / "@azure" / "notification-hubs" / "package.json"


def require_sdk() -> None:
    """Fail (not skip) with the fix when the SDK is missing: `make test` installs it."""
    if not SDK.exists() or shutil.which("node") is None:
        raise RuntimeError("the JS SDK is not installed: run `make node-deps` (make test does)")


async def run_node_script(
    script: str, env: dict[str, str], timeout: float = 180
) -> list[dict[str, Any]]:
    """Copy `tests/node/{script}` beside node_modules (ESM ignores NODE_PATH) and run it."""
    require_sdk()
    target = NODE_DIR / script
    shutil.copy(Path(__file__).parent / "node" / script, target)
    proc = await asyncio.create_subprocess_exec(
        "node",
        str(target),
        cwd=NODE_DIR,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode == 0, err.decode()
    return [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any proxy or TLS setting, plus `extra`: the only ones a test gives.

    `HTTPS_PROXY`, `NO_PROXY` and friends, `NODE_EXTRA_CA_CERTS`, `SSL_CERT_FILE` and
    `NODE_TLS_REJECT_UNAUTHORIZED` are removed, so a client reaches hubscope only by what
    the test sets, as a user's app would.
    """
    drop = {"NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"}
    drop.add("NODE_TLS_REJECT_UNAUTHORIZED")
    env = {
        k: v for k, v in os.environ.items() if "PROXY" not in k.upper() and k.upper() not in drop
    }
    return {**env, **extra}


def check_life_cycle(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Assert `sdk_calls.mjs` went through as against the service; its results by call."""
    by_call = {r["call"]: r for r in results}
    failed = {name: r for name, r in by_call.items() if not r["ok"] and name not in REFUSED}
    assert not failed, failed
    for name in REFUSED:
        assert by_call[name]["ok"] is False and by_call[name]["status"] == 400, by_call[name]
    assert len(by_call) >= 18 + 8 + 8 + 9
    assert "upserted" in (by_call["getRegistration"]["result"]["tags"])
    assert set(by_call["listRegistrationsByTag"]["result"]) >= {
        by_call[f"createRegistration {k}"]["result"]["registrationId"] for k in ("Apple", "Gcm")
    }
    assert by_call["getInstallation"]["result"]["tags"] == ["likes_football"]
    return by_call
