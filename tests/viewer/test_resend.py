"""Signed curl and edit-and-resend in the viewer: only with a key, only from its own pages;
without a key the pages say how to give one."""

from __future__ import annotations

import html
import re

import aiohttp

from proxy import serve
from proxy.cli.replay import signer_from
from tests.exports import Capture, capture_fixture, rows  # noqa: F401
from viewer.app import make_app
from viewer.resend import enable
from viewer.state import ViewerSettings


async def _start(capture: Capture, *, key: bool) -> serve.Running:
    app = make_app(ViewerSettings(db=capture.db))
    if key:
        signer, _ = signer_from(capture.connection_string)
        enable(app, signer, capture.hub.url)
    return await serve.start(app, serve.Listen("127.0.0.1", 0))


async def test_without_a_key_the_curl_says_how_and_resend_is_refused(capture: Capture) -> None:
    put = rows(capture.db, capture.session)[1]
    viewer = await _start(capture, key=False)
    base = f"http://127.0.0.1:{viewer.port}"
    try:
        async with aiohttp.ClientSession() as client:
            async with client.get(f"{base}/exchanges/{put['id']}") as resp:
                page = await resp.text()
            async with client.get(f"{base}/exchanges/{put['id']}/resend") as resp:
                assert resp.status == 403
                refused = await resp.text()
            async with client.get(f"{base}/api/exchanges/{put['id']}/curl") as resp:
                curl = await resp.json()
    finally:
        await serve.stop([viewer])
    assert "Authorization: &lt;SAS token&gt;" in page and "--connection-string" in page
    assert "Edit and resend" not in page
    assert "--connection-string" in refused
    assert curl["signed"] is False and "<SAS token>" in curl["curl"] and curl["hint"]


async def test_with_a_key_curl_is_signed_and_an_edited_resend_shows_the_tag(
    capture: Capture,
) -> None:
    put = rows(capture.db, capture.session)[1]
    viewer = await _start(capture, key=True)
    base = f"http://127.0.0.1:{viewer.port}"
    form_url = f"{base}/exchanges/{put['id']}/resend"
    try:
        async with aiohttp.ClientSession() as client:
            async with client.get(f"{base}/exchanges/{put['id']}") as resp:
                page = await resp.text()
                assert resp.headers["Cache-Control"] == "no-store"  # it carries a token
            async with client.get(form_url) as resp:
                assert resp.headers["Cache-Control"] == "no-store"
                form = await resp.text()
            text = html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", form, re.S)[1])  # type: ignore[index]
            edited = text.replace("<Tags>a,b</Tags>", "<Tags>a,edited</Tags>")
            async with client.post(
                form_url, data={"request": edited}, headers={"Origin": "https://evil.example"}
            ) as resp:
                assert resp.status == 403
            cross_site = {"Origin": "null", "Sec-Fetch-Site": "cross-site"}
            async with client.post(form_url, data={"request": edited}, headers=cross_site) as resp:
                assert resp.status == 403
            async with client.post(
                form_url, data={"request": edited}, headers={"Origin": base}
            ) as resp:
                assert resp.status == 200
                shown = await resp.text()
            async with client.post(form_url, data={"request": "nonsense"}) as resp:
                assert resp.status == 400
    finally:
        await serve.stop([viewer])
    assert "SharedAccessSignature sr=" in page and "&lt;SAS token&gt;" not in page
    assert "Edit and resend" in page
    assert f"PUT {capture.hub.url}/myhub/registrations/" in text and "Authorization" not in text
    assert "<del>a,b</del>" in shown and "<ins>a,edited</ins>" in shown
    assert "request.record[0].tags" in shown and "resend-of-orig" in shown
    (sent,) = rows(capture.db, "resend-of-orig")
    assert b"<Tags>a,edited</Tags>" in sent["request_body"]


def test_the_viewer_takes_a_key_only_on_loopback(capture: Capture) -> None:
    from proxy.cli.view import resend_key

    key, said = resend_key("0.0.0.0", capture.connection_string, None)
    assert key is None and "only used when listening on loopback" in said
    key, said = resend_key("127.0.0.1", capture.connection_string, None)
    assert key is not None and key[1] == capture.hub.url and said.endswith(capture.hub.url)
    assert resend_key("127.0.0.1", None, None) == (
        None,
        "curl and resend: no key (--connection-string gives signed commands)",
    )
