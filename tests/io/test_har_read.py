"""HAR in from other tools, generated here on loopback: mitmproxy's `hardump` in front of
the stand-in hub, and Chromium recording its own HAR (Playwright) while a page calls the
hub. Both import as sessions whose exchanges decode and are judged like live traffic."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
from pathlib import Path

from playwright.async_api import async_playwright

from proxy import sas
from proxy.io import har_read
from proxy.localhub import FULL_RULE, HubSettings, start_hub
from proxy.localhub.settings import generate_key
from tests.exports import import_, rows, sessions
from tests.outside import needs
from tests.replaying import HUB, INSTALLATION, TOKEN, apple, invoke, run_client
from tests.servers import REPO, free_port, wait_for_port

MITMDUMP = REPO / ".deps" / "mitm-venv" / "bin" / "mitmdump"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def _hub_settings(key: str) -> HubSettings:
    return HubSettings.build(
        connection_string=f"Endpoint=sb://x/;SharedAccessKeyName={FULL_RULE};SharedAccessKey={key}"
    )


async def test_a_har_written_by_mitmproxy_imports_and_decodes(tmp_path: Path) -> None:
    assert MITMDUMP.exists(), "mitmdump missing: `make install` puts it in .deps/mitm-venv"
    key = generate_key()
    hub = await start_hub(_hub_settings(key))
    har_path, port = tmp_path / "mitm.har", free_port()
    mitm = await asyncio.create_subprocess_exec(
        str(MITMDUMP), "--mode", f"reverse:{hub.url}", "--listen-host", "127.0.0.1",
        "--listen-port", str(port), "--set", f"hardump={har_path}",
        "--set", f"confdir={tmp_path / 'mitm-conf'}", "-q",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        await wait_for_port(port, mitm)
        statuses = await run_client(f"http://127.0.0.1:{port}", FULL_RULE, key)
    finally:
        if mitm.returncode is None:
            mitm.send_signal(signal.SIGINT)  # mitmdump writes the HAR on a clean exit
        out, _ = await asyncio.wait_for(mitm.communicate(), 60)
        await hub.stop()
    data = json.loads(har_path.read_text())
    assert har_read.creator_of(data).startswith("mitmproxy 11")
    db = tmp_path / "hubscope.db"
    name = await import_(db, har_path)
    assert name == "import-mitm"
    (session,) = sessions(db)
    assert session["kind"] == "import" and "HAR by mitmproxy" in session["note"]
    stored = rows(db, name)
    assert [r["status"] for r in stored] == statuses
    assert [r["operation"] for r in stored][:3] == [
        "create_registration_id", "create_or_update_registration", "read_registration",
    ]  # fmt: skip
    assert all(r["response_decode_error"] is None for r in stored)
    entries = data["log"]["entries"]
    assert stored[1]["request_body"] == entries[1]["request"]["postData"]["text"].encode()
    assert stored[2]["response_body"] == entries[2]["response"]["content"]["text"].encode()
    assert {"a", "b", "c"} <= _device_values(db, name, "tag")
    assert all("[redacted]" in dict(json.loads(r["request_headers"]))["Authorization"]
               for r in stored)  # fmt: skip
    audit = await invoke("audit", "--db", str(db), "--session", name, "--format", "json")
    assert json.loads(audit.output)["exchanges"] == len(stored)


def _device_values(db: Path, session: str, column: str) -> set[str]:
    """Every value of one `devices` column (or `tag`) in a session's decoded records."""
    from proxy import store

    source = "device_tags t" if column == "tag" else "devices t"
    conn = store.connect(db, readonly=True)
    try:
        return {
            r["value"]
            for r in conn.query(
                f"select t.{column} as value from {source} join exchanges e"
                f" on e.id = t.exchange_id where e.session = ? and t.{column} is not null",
                [session],
            )
        }
    finally:
        conn.conn.close()


PAGE = """<!doctype html><title>app</title><script>
async function calls(base, auth, atom, installation) {
  const statuses = [];
  const send = async (method, path, body, type) => {
    const headers = {"Authorization": auth, "x-ms-version": "2020-06"};
    if (type) headers["Content-Type"] = type;
    const answer = await fetch(base + path, {method, headers, body});
    statuses.push(answer.status);
    return answer.text();
  };
  await send("POST", "/myhub/registrations?api-version=2020-06", atom,
             "application/atom+xml;type=entry;charset=utf-8");
  await send("PUT", "/myhub/installations/inst-1?api-version=2020-06", installation,
             "application/json");
  await send("GET", "/myhub/installations/inst-1?api-version=2020-06");
  await send("GET", "/myhub/tags/a/registrations?api-version=2020-06");
  return statuses;
}
</script>"""


@needs(shutil.which(CHROMIUM) is not None, "Debian's chromium")
async def test_a_har_recorded_by_chromium_imports_and_decodes(tmp_path: Path) -> None:
    key = generate_key()
    hub = await start_hub(_hub_settings(key))
    har_path = tmp_path / "chromium.har"
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                context = await browser.new_context(
                    record_har_path=str(har_path), record_har_content="embed"
                )
                page = await context.new_page()
                await page.route(
                    f"{hub.url}/app.html",
                    lambda route: route.fulfill(body=PAGE, content_type="text/html"),
                )
                await page.goto(f"{hub.url}/app.html")
                token = sas.make_token(f"http://{hub.host}/{HUB}", FULL_RULE, key)
                statuses = await page.evaluate(
                    "([base, auth, atom, inst]) => calls(base, auth, atom, inst)",
                    [hub.url, token, apple("a,b").decode(), json.dumps(INSTALLATION)],
                )
                await context.close()  # writes the HAR
            finally:
                await browser.close()
    finally:
        await hub.stop()
    assert statuses == [200, 200, 200, 200]
    data = json.loads(har_path.read_text())
    db = tmp_path / "hubscope.db"
    name = await import_(db, har_path)
    stored = [r for r in rows(db, name) if r["operation"] != "unknown"]
    assert [(r["method"], r["operation"], r["status"]) for r in stored] == [
        ("POST", "create_registration", 200),
        ("PUT", "create_or_overwrite_installation", 200),
        ("GET", "read_installation", 200),
        ("GET", "list_registrations_by_tag", 200),
    ]
    assert all(r["request_decode_error"] is None and r["response_decode_error"] is None
               for r in stored)  # fmt: skip
    assert {"a", "b", "z"} <= _device_values(db, name, "tag")
    assert TOKEN in _device_values(db, name, "handle")
    assert "HAR by" in sessions(db)[0]["note"] and har_read.creator_of(data)
