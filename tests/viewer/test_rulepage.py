"""Findings cite where to read more: the public spec page, and the rule's own page."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp.test_utils import TestClient
from markupsafe import escape

from proxy.rules import citations, rules

FCM = next(r for r in rules() if r.id == "registration.fcm-root")


async def test_a_rule_page_shows_the_declaration_and_links_its_source(triage: TestClient) -> None:
    resp = await triage.get("/rules/registration.fcm-root")
    assert resp.status == 200
    page = await resp.text()
    assert str(escape(FCM.expected)) in page and str(escape(FCM.spec)) in page
    url = citations.url(FCM.source)
    assert url and f'href="{url}"' in page
    assert f"/?f={quote('rule:registration.fcm-root', safe='')}" in page


async def test_an_unknown_rule_is_404(triage: TestClient) -> None:
    assert (await triage.get("/rules/no.such-rule")).status == 404


async def test_the_exchange_page_links_each_finding(triage: TestClient) -> None:
    resp = await triage.get("/api/exchanges?f=rule:registration.fcm-root")
    [item] = (await resp.json())["items"]
    page = await (await triage.get(f"/exchanges/{item['id']}")).text()
    assert 'href="/rules/registration.fcm-root"' in page
    assert f'href="{citations.url(FCM.source)}"' in page
