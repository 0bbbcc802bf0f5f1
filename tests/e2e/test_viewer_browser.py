"""The viewer in a real Chromium: filter, open a finding, follow a timeline, watch a live row."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from proxy import serve
from tests.conftest import Upstream
from tests.outside import needs
from tests.servers import start_proxy
from viewer import sample
from viewer.app import start_viewer

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = needs(shutil.which(CHROMIUM) is not None, "Debian's chromium")


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, closed on the way out."""
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def stack(tmp_path: Path, upstream: Upstream) -> AsyncIterator[tuple[str, str]]:
    """A recorded session, the proxy recording into the same file, and the viewer over it."""
    db = tmp_path / "hubscope.db"
    sample.record(db, sample.scenario("demo"))
    proxy = await start_proxy(upstream.url, db, session="live")
    viewer = await start_viewer(db)
    try:
        yield f"http://127.0.0.1:{viewer.port}", f"http://127.0.0.1:{proxy.port}"
    finally:
        await serve.stop([viewer, proxy])


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"viewer-{name}.png"), full_page=True)


async def test_filter_open_finding_follow_timeline_and_see_live_rows(
    browser: Browser, stack: tuple[str, str]
) -> None:
    viewer, proxy = stack
    page = await browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    await page.goto(viewer + "/")
    rows = page.locator("#exchanges tbody tr.row")
    await expect(rows).to_have_count(8)
    await shot(page, "list")

    await page.keyboard.press("/")
    await page.keyboard.type("platform:apns tag:lang:fr")
    await page.keyboard.press("Enter")
    await expect(rows).to_have_count(1)
    await expect(rows.first.locator(".op")).to_have_text("create_or_update_registration")
    assert "f=platform%3Aapns+tag%3Alang%3Afr" in page.url

    await page.goto(viewer + "/?platform=fcmv1&tag=vip")
    await expect(page.locator("#filter")).to_have_value("platform:fcmv1 and tag:vip")
    await expect(rows).to_have_count(1)
    await page.keyboard.press("j")
    await expect(rows.first).to_have_class("row s-2xx selected")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/exchanges/*")
    finding = page.locator("tr.finding", has_text="common.api-version")
    await expect(finding.locator(".expected")).to_have_text("an api-version query parameter")
    await expect(finding.locator(".actual")).to_have_text("no api-version")
    sentence = "`api-version` | every operation | required."
    await expect(finding.locator(".spec q")).to_have_text(sentence)
    missing = page.locator("p.missing.hit", has_text="missing query parameter")
    await expect(missing).to_contain_text("api-version")
    await expect(page.locator("#curl-text")).to_contain_text("Authorization: <SAS token>")
    await shot(page, "detail")

    await page.click(f"a.timeline-link:has-text('{sample.INSTALLATION_ID}')")
    await page.wait_for_url("**/devices?installation_id=*")
    await expect(page.locator(".change-tags .tag.added")).to_have_text("+vip")
    await shot(page, "timeline")

    await page.goto(viewer + "/")
    await expect(page.locator("#live-state")).not_to_have_class("live off")
    await page.wait_for_function("document.querySelector('#live-state') !== null")
    body = sample.apple_entry("feedface" * 8, "user:7,live")
    async with aiohttp.ClientSession() as client:
        url = f"{proxy}/myhub/registrations?api-version=2015-01"
        headers = {"Content-Type": sample.ATOM, "Authorization": sample.SAS}
        async with client.post(url, data=body, headers=headers) as resp:
            assert resp.status == 200
    fresh = page.locator("#exchanges tbody tr.row", has_text="live")
    await expect(fresh).to_have_count(1, timeout=10_000)
    await expect(rows).to_have_count(9)
    await expect(fresh.locator(".platform")).to_have_text("apns")
    await shot(page, "live")
    assert not errors, errors
