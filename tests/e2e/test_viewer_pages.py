"""The viewer's triage pages in a real Chromium, one test per promise of the viewer issue.

One browser and one viewer for the module (over a copy of the triage database); each test
opens its own page. Screenshots land in `test-artifacts/`.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from urllib.parse import quote

import aiohttp
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from proxy import serve
from tests.e2e.test_viewer_browser import CHROMIUM, chromium, shot
from tests.viewer.conftest import REPLAY, build_triage
from viewer import sample
from viewer.app import start_viewer

pytestmark = [
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium"),
    pytest.mark.asyncio(loop_scope="module"),
]

CONTRAST = """
() => {
  const parse = (c) => { const m = c.match(/[\\d.]+/g) || []; return m.map(Number); };
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return parse(getComputedStyle(document.documentElement).backgroundColor).slice(0, 3);
  };
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.closest("title, script, style, option")) continue;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    const gone = style.visibility === "hidden" || style.display === "none";
    if (gone || !box.width || !box.height) continue;
    if (el.closest("details:not([open])") && !el.closest("summary")) continue;
    const fg = parse(el instanceof SVGElement ? style.fill : style.color).slice(0, 3);
    const bg = el instanceof SVGElement ? background(el.closest("figure") || el) : background(el);
    const [a, b] = [lum(fg) + 0.05, lum(bg) + 0.05];
    const ratio = Math.max(a, b) / Math.min(a, b);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    const name = `${el.tagName}.${el.className.baseVal ?? el.className}`;
    const text = el.textContent.trim().slice(0, 30);
    if (ratio < need) out.push(`${name} "${text}" ${ratio.toFixed(2)}`);
  }
  return out;
}
"""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def viewer(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    db = tmp_path_factory.mktemp("pages") / "triage.db"
    build_triage(db)
    running = await start_viewer(db)
    try:
        yield f"http://127.0.0.1:{running.port}"
    finally:
        await serve.stop([running])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def open_page(browser: Browser, scheme: str = "light", width: int = 1280) -> Page:
    page = await browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error"
            and not m.text.startswith("Failed to load resource") else None)  # fmt: skip
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors  # type: ignore[attr-defined]
    return page


async def api(viewer: str, path: str) -> dict:
    async with aiohttp.ClientSession() as client, client.get(viewer + path) as resp:
        return await resp.json()


async def test_a_400_row_shows_its_error_code_and_rule(browser: Browser, viewer: str) -> None:
    page = await open_page(browser)
    await page.goto(viewer + "/?f=" + quote("session:demo"))
    row = page.locator("#exchanges tr.row", has_text="400")
    await expect(row.locator(".status-pill.s-4xx")).to_have_text("400")
    await expect(row.locator(".problem .code")).to_have_text("400")
    await expect(row.locator(".problem .rule.sev-error")).to_have_text("registration.fcm-root")
    failed = page.locator("#exchanges tr.row", has_text="503").locator(".status-pill")
    await expect(failed).to_have_class("status-pill s-5xx")
    ok = page.locator("#exchanges tr.row.s-2xx .status-pill").first
    client_error = await row.locator(".status-pill").evaluate("e => getComputedStyle(e).color")
    warning = await page.locator(".badge.warning").first.evaluate(
        "e => getComputedStyle(e).backgroundColor")
    assert client_error != warning  # a 4xx is not dressed as a warning
    assert await ok.evaluate("e => getComputedStyle(e).backgroundColor") == "rgba(0, 0, 0, 0)"
    await shot(page, "triage-list")
    assert not page.errors  # type: ignore[attr-defined]


async def test_notes_are_folded_until_asked_for_and_that_is_remembered(
    browser: Browser, viewer: str
) -> None:
    page = await open_page(browser)
    await page.goto(viewer + "/?f=session:demo-2")
    notes = page.locator("#exchanges .badge.note")
    assert await notes.count() == 7  # every call of the run but the DELETE has a note
    for i in range(7):
        await expect(notes.nth(i)).to_be_hidden()
    await expect(page.locator("#exchanges .badge.warning").first).to_be_visible()
    await page.click("#notes-toggle")
    await expect(notes.first).to_be_visible()
    await expect(page.locator("#notes-toggle")).to_have_text("notes shown")
    await page.reload()
    await expect(notes.first).to_be_visible()
    await page.click("#notes-toggle")
    await page.goto(viewer + "/?f=" + quote("session:demo-2 and method:get and status:200"))
    await page.click("#exchanges tr.row >> nth=0")
    await expect(page.locator("tr.finding.note").first).to_be_hidden()
    await expect(page.locator("p.when-notes-hidden")).to_be_visible()
    severities = await page.locator("tr.finding .badge").all_text_contents()
    assert severities == sorted(severities, key=["error", "warning", "note"].index)


async def test_search_finds_header_and_body_substrings_and_marks_them(
    browser: Browser, viewer: str
) -> None:
    page = await open_page(browser)
    await page.goto(viewer + "/")
    await page.fill("#filter", '"xml; charset=utf-8"')
    await page.press("#filter", "Enter")
    rows = page.locator("#exchanges tr.row")
    await expect(rows).to_have_count(1)  # a response header of the refused FCM registration
    await page.fill("#filter", "9f8e7d6c-0000")
    await page.press("#filter", "Enter")
    await expect(rows).to_have_count(1)  # a TrackingId inside its <Error> body
    await rows.first.click()
    await page.wait_for_url("**/exchanges/*")
    marks = page.locator(".sides mark")
    await expect(marks.first).to_have_text("9f8e7d6c-0000")
    assert await page.locator("#search-hits").count() == 1
    await shot(page, "search-detail")
    header = await api(viewer, "/api/exchanges?q=" + quote('"x-ms-version: 2015"'))
    assert len(header["items"]) == 26


async def test_a_filter_with_or_and_not_returns_the_right_rows(
    browser: Browser, viewer: str
) -> None:
    page = await open_page(browser)
    await page.goto(viewer + "/")
    expression = "(status:4xx or status:5xx) and not session:demo-2 and not rule:registration.*"
    await page.fill("#filter", expression)
    await page.press("#filter", "Enter")
    rows = page.locator("#exchanges tr.row")
    await expect(rows).to_have_count(3)  # the 404s of demo and the replay, the 503
    texts = await rows.locator(".status-pill").all_text_contents()
    assert sorted(texts) == ["404", "404", "503"]
    await expect(page.locator("#filter")).to_have_value(expression)
    chips = page.locator(".chips .chip")
    await expect(chips).to_have_count(3)
    await chips.nth(1).click()  # drop "not session:demo-2"
    await expect(rows).to_have_count(4)
    await shot(page, "filter-expression")


async def test_the_device_index_links_to_a_timeline(browser: Browser, viewer: str) -> None:
    page = await open_page(browser)
    await page.goto(viewer + "/devices?by=installation")
    device = page.locator("#devices tr.device")
    await expect(device).to_have_count(1)
    await expect(device.locator("td.num").first).to_have_text("6")
    await device.locator("a.timeline-link").click()
    await page.wait_for_url("**/devices?installation_id=*")
    await expect(page.locator(".tabs .tab.current")).to_have_text(f"{REPLAY} 2")
    await page.click("text=side by side")
    await expect(page.locator(".column")).to_have_count(3)
    added = page.locator(".column").nth(0).locator(".change-tags .tag.added")
    await expect(added).to_have_text("+vip")
    await expect(page.locator("figure.chart-waterfall rect.bar")).to_have_count(6)
    await shot(page, "timeline-side-by-side")
    await page.goto(viewer + "/tags")
    await page.click("a.tag:has-text('vip')")
    await expect(page.locator("#devices tr.device")).to_have_count(1)


async def test_session_charts_draw_the_right_counts(browser: Browser, viewer: str) -> None:
    page = await open_page(browser)
    await page.goto(viewer + "/sessions/demo")
    bars = page.locator("figure.chart-status-mix rect.bar")
    counts: dict[str, int] = {}
    for i in range(await bars.count()):
        cls = (await bars.nth(i).get_attribute("class") or "").split()[-1]
        counts[cls] = counts.get(cls, 0) + int(await bars.nth(i).get_attribute("data-count") or 0)
    assert counts == {"c-2xx": 7, "c-4xx": 2, "c-5xx": 1}
    legend = page.locator("figure.chart-status-mix .legend-count")
    assert await legend.all_text_contents() == ["7", "2", "1"]
    latency = page.locator("figure.chart-latency rect.bar")
    await expect(latency).to_have_count(1)
    assert await latency.get_attribute("data-count") == "10"
    box = await page.locator("figure.chart-status-mix svg.plot").bounding_box()
    assert box and box["width"] > 300 and box["height"] > 60
    await shot(page, "session-charts")


async def test_replays_read_clearly_and_link_to_their_originals(
    browser: Browser, viewer: str
) -> None:
    page = await open_page(browser)
    await page.goto(viewer + f"/sessions/{REPLAY}")
    verdicts = page.locator("table.replay .verdict")
    await expect(verdicts).to_have_count(8)
    await expect(page.locator("table.replay .verdict-different")).to_have_count(1)
    replay = (await api(viewer, f"/api/exchanges?f=session:{REPLAY}+and+op:create_registration"))
    first = replay["items"][-1]["id"]
    await page.goto(viewer + f"/exchanges/{first}")
    await expect(page.locator(".replay-of .verdict")).to_have_text("different")
    await expect(page.locator(".replay-diff")).to_contain_text("status")
    await page.click("#original-link")
    await page.wait_for_url("**/exchanges/*")
    await expect(page.locator(".replayed-as")).to_contain_text(REPLAY)
    await shot(page, "replay-original")


async def test_errors_are_pages_with_the_filter_kept(browser: Browser, viewer: str) -> None:
    page = await open_page(browser)
    response = await page.goto(viewer + "/?f=" + quote("status:4xx and since:yesterday"))
    assert response and response.status == 400
    await expect(page.locator(".error-page h1")).to_contain_text("Bad Request")
    await expect(page.locator(".error-message")).to_contain_text("since")
    await expect(page.locator("#filter")).to_have_value("status:4xx and since:yesterday")
    await expect(page.locator("nav.main-nav a")).to_have_count(6)
    await page.fill("#filter", "status:4xx")
    await page.press("#filter", "Enter")
    await expect(page.locator("#exchanges tr.row")).to_have_count(4)
    response = await page.goto(viewer + "/exchanges/nope?f=status:4xx")
    assert response and response.status == 404
    await expect(page.locator("#back")).to_have_attribute("href", "/?f=status%3A4xx")
    await shot(page, "error-404")


async def test_j_k_and_arrows_walk_the_filtered_list(browser: Browser, viewer: str) -> None:
    listed = [i["id"] for i in (await api(viewer, "/api/exchanges?f=session:demo"))["items"]]
    page = await open_page(browser)
    await page.goto(viewer + f"/exchanges/{listed[0]}?f=session:demo")
    await page.keyboard.press("j")
    await page.wait_for_url(f"**/exchanges/{listed[1]}?f=session%3Ademo")
    await page.keyboard.press("ArrowRight")
    await page.wait_for_url(f"**/exchanges/{listed[2]}?f=session%3Ademo")
    await page.keyboard.press("k")
    await page.wait_for_url(f"**/exchanges/{listed[1]}?f=session%3Ademo")
    await page.keyboard.press("ArrowLeft")
    await page.wait_for_url(f"**/exchanges/{listed[0]}?f=session%3Ademo")
    await expect(page.locator("#newer")).to_have_count(0)  # the newest has nothing above it


PAGES = [
    "/", "/?f=session:demo", "/problems", "/devices", "/devices?by=registration", "/tags",
    "/sessions", "/sessions/demo", f"/sessions/{REPLAY}",
    f"/devices?registration_id={sample.REG_ID}&session=*", "/exchanges/{fcm}?q=TrackingId",
    "/?since=yesterday",
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_every_page_fits_1024_px_and_every_text_meets_aa_contrast(
    browser: Browser, viewer: str, scheme: str
) -> None:
    fcm = (await api(viewer, "/api/exchanges?f=rule:registration.fcm-root"))["items"][0]["id"]
    page = await open_page(browser, scheme, width=1024)
    await page.goto(viewer + "/")
    await page.click("#notes-toggle")  # notes shown, so their badges are measured too
    failures: dict[str, list[str]] = {}
    for path in PAGES:
        await page.goto(viewer + path.format(fcm=fcm))
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1024, f"{path} scrolls sideways in {scheme}: {width} px"
        if found := await page.evaluate(CONTRAST):
            failures[path] = found
    assert not failures, failures
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (background == "rgb(21, 23, 26)") == (scheme == "dark")
    await page.goto(viewer + f"/devices?registration_id={sample.REG_ID}&session=*")
    panel = await page.locator(".column").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert (panel == "rgb(28, 31, 36)") == (scheme == "dark")  # no light panel left in dark mode
    await shot(page, f"timeline-{scheme}-1024")
    assert not page.errors  # type: ignore[attr-defined]


async def test_the_theme_toggle_is_remembered(browser: Browser, viewer: str) -> None:
    page = await open_page(browser, "light")
    await page.goto(viewer + "/sessions/demo")
    await page.click("#theme-toggle")  # auto → light
    await page.click("#theme-toggle")  # light → dark
    await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    await page.reload()
    await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert not await page.evaluate(CONTRAST)
    await shot(page, "session-dark")
