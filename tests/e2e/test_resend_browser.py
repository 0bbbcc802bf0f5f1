"""Edit and resend in a real Chromium: the viewer's own form is accepted (browsers send
`Origin: null` under its no-referrer policy), the answer and the edited tag are shown."""

from __future__ import annotations

import re
import shutil

from playwright.async_api import async_playwright

from proxy import serve
from proxy.cli.replay import signer_from
from tests.exports import Capture, capture_fixture, rows  # noqa: F401
from tests.outside import needs
from viewer.app import make_app
from viewer.resend import enable
from viewer.state import ViewerSettings

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip

pytestmark = needs(shutil.which(CHROMIUM) is not None, "Debian's chromium")


async def test_the_resend_form_sends_from_the_browser(capture: Capture) -> None:
    put = rows(capture.db, capture.session)[1]
    app = make_app(ViewerSettings(db=capture.db))
    signer, _ = signer_from(capture.connection_string)
    enable(app, signer, capture.hub.url)
    viewer = await serve.start(app, serve.Listen("127.0.0.1", 0))
    base = f"http://127.0.0.1:{viewer.port}"
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                page = await browser.new_page()
                await page.goto(f"{base}/exchanges/{put['id']}")
                curl = await page.locator("#curl-text").inner_text()
                await page.click("a.resend-link")
                text = await page.locator("textarea").input_value()
                await page.locator("textarea").fill(
                    re.sub(r"<Tags>a,b</Tags>", "<Tags>a,edited</Tags>", text)
                )
                await page.click("form.resend button[type=submit]")
                table = await page.locator("table.resend-diff").inner_text()
                sides = await page.locator("section.sides").inner_text()
            finally:
                await browser.close()
    finally:
        await serve.stop([viewer])
    assert "SharedAccessSignature sr=" in curl and "<SAS token>" not in curl
    assert "request.record[0].tags" in table and "a,edited" in table
    assert "Original" in sides and "Resend" in sides
    (sent,) = rows(capture.db, "resend-of-orig")
    assert b"<Tags>a,edited</Tags>" in sent["request_body"]
