"""Reverse mode re-signs exactly the tokens the hub would accept from the app directly.

The app calls the proxy as `localhost`, the strict stand-in hub is called as
`127.0.0.1`: a token the app signs for the proxy names the wrong host for the hub.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
from click.testing import CliRunner

from proxy import sas, serve, store
from proxy.capture.resign import Resigner
from proxy.cli import cli
from proxy.localhub import FULL_RULE, LISTEN_RULE, RunningHub, start_hub
from proxy.signing import retarget
from tests.conftest import Upstream
from tests.servers import start_proxy

HUB = "myhub"
PATH = f"/{HUB}/registrations?api-version=2020-06"


def js_token(host: str, key: str, rule: str = FULL_RULE, *, ttl: int = 3600) -> str:
    """The JS SDK's shape: the namespace root, upper-case hex, not lower-cased."""
    return sas.make_token(f"http://{host}/", rule, key, ttl=ttl, lower=False)


SHAPES = {
    "js root": lambda host: f"http://{host}/",
    ".net path": lambda host: f"http://{host.split(':')[0]}/{HUB}/registrations/",
    "java full url": lambda host: f"http://{host}{PATH}",
    "hub": lambda host: f"http://{host}/{HUB}",
}


@dataclass
class Setup:
    hub: RunningHub
    proxy: serve.Running
    db: Path

    @property
    def called(self) -> str:
        return f"localhost:{self.proxy.port}"

    def key(self, rule: str = FULL_RULE) -> str:
        return self.hub.settings.keys[rule]

    async def get(self, authorization: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as client:
            url = f"http://{self.called}{PATH}"
            async with client.get(url, headers={"Authorization": authorization}) as resp:
                return resp.status, await resp.text()


@pytest.fixture
async def with_key(tmp_path: Path) -> AsyncIterator[Setup]:
    hub = await start_hub()
    db = tmp_path / "resign.db"
    proxy = await start_proxy(hub.url, db, keys={FULL_RULE: hub.settings.keys[FULL_RULE]})
    try:
        yield Setup(hub, proxy, db)
    finally:
        await serve.stop([proxy])
        await hub.stop()


@pytest.fixture
async def without_key(tmp_path: Path) -> AsyncIterator[Setup]:
    hub = await start_hub()
    db = tmp_path / "plain.db"
    proxy = await start_proxy(hub.url, db)
    try:
        yield Setup(hub, proxy, db)
    finally:
        await serve.stop([proxy])
        await hub.stop()


def stored(db: Path) -> list[dict[str, object]]:
    return list(store.connect(db, readonly=True).query("select * from exchanges"))


@pytest.mark.parametrize("shape", SHAPES)
async def test_a_token_for_the_proxy_is_re_signed_for_the_hub(with_key: Setup, shape: str) -> None:
    token = sas.make_token(SHAPES[shape](with_key.called), FULL_RULE, with_key.key())
    status, text = await with_key.get(token)
    assert status == 200, text
    await serve.stop([with_key.proxy])
    [row] = stored(with_key.db)
    verdict = str(row["sas_verdict"])
    assert verdict.startswith("valid; re-signed by hubscope for http://127.0.0.1")
    assert "(the client signed for http://localhost" in verdict
    headers = json.loads(str(row["request_headers"]))
    assert ("Host", with_key.called) in [tuple(h) for h in headers], "what the client sent"
    sent = sas.parse_token(token)
    assert sent is not None and sent.sr is not None and sent.se is not None
    new_sr = retarget(sent.sr, "127.0.0.1", with_key.hub.port)
    assert new_sr is not None
    new_sig = quote(sas.signature(new_sr, sent.se, with_key.key()), safe="")
    dump = "\n".join(str(v) for v in row.values())
    assert "sig=[redacted]" in dump
    for secret in (sent.sig or "", new_sig, with_key.key()):
        assert secret not in dump
    [recorded] = [v for k, v in headers if k.lower() == "authorization"]
    assert f"sr={sent.sr}&" in recorded or recorded.endswith(f"sr={sent.sr}"), "the app's token"


async def test_the_re_signed_token_keeps_rule_expiry_and_shape(upstream: Upstream) -> None:
    key = "c2VjcmV0"
    proxy = await start_proxy(upstream.url, None, keys={FULL_RULE: key})
    token = js_token(f"localhost:{proxy.port}", key, ttl=900)
    try:
        async with aiohttp.ClientSession() as client:
            url = f"http://localhost:{proxy.port}{PATH}"
            async with client.get(url, headers={"Authorization": token}) as resp:
                assert resp.status == 200
    finally:
        await serve.stop([proxy])
    [seen] = upstream.seen
    [forwarded] = [v for k, v in seen.headers if k.lower() == "authorization"]
    before, after = sas.parse_token(token), sas.parse_token(forwarded)
    assert before is not None and after is not None
    assert after.sr == quote(f"http://127.0.0.1:{upstream.port}/", safe="")
    assert (after.se, after.skn, after.order) == (before.se, before.skn, before.order)
    assert sas.verify(after, {FULL_RULE: key}, host=f"127.0.0.1:{upstream.port}") is None


REFUSALS = {
    "bad signature": "InvalidAudience",
    "expired": "ExpiredToken",
    "a rule hubscope has no key for": "InvalidAudience",
    "a third host": "InvalidAudience",
}
"""Tokens the proxy must forward unchanged, and the hub's answer to each (it checks the
audience before the signature, so a token for the proxy fails on its audience)."""


def refused(case: str, called: str, key: str, other_rule_key: str) -> str:
    return {
        "bad signature": lambda: js_token(called, "not-the-key"),
        "expired": lambda: js_token(called, key, ttl=-60),
        "a rule hubscope has no key for": lambda: js_token(called, other_rule_key, LISTEN_RULE),
        "a third host": lambda: js_token("elsewhere.example", key),
    }[case]()


@pytest.mark.parametrize("case", REFUSALS)
async def test_refused_tokens_are_forwarded_unchanged_and_answered_401(
    with_key: Setup, case: str
) -> None:
    token = refused(case, with_key.called, with_key.key(), with_key.key(LISTEN_RULE))
    status, text = await with_key.get(token)
    assert status == 401 and f"<Detail>{REFUSALS[case]}" in text, text
    await serve.stop([with_key.proxy])
    [row] = stored(with_key.db)
    assert "re-signed" not in str(row["sas_verdict"])


@pytest.mark.parametrize("case", REFUSALS)
async def test_refused_tokens_reach_the_upstream_byte_for_byte(
    upstream: Upstream, case: str
) -> None:
    key = "c2VjcmV0"
    proxy = await start_proxy(upstream.url, None, keys={FULL_RULE: key})
    called = f"localhost:{proxy.port}"
    token = refused(case, called, key, key)
    try:
        async with aiohttp.ClientSession() as client:
            url = f"http://{called}{PATH}"
            async with client.get(url, headers={"Authorization": token}) as resp:
                assert resp.status == 200
    finally:
        await serve.stop([proxy])
    [seen] = upstream.seen
    assert [v for k, v in seen.headers if k.lower() == "authorization"] == [token]


async def test_without_a_key_the_hub_refuses_and_hubscope_says_how_to_fix_it(
    without_key: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    token = js_token(without_key.called, without_key.key())
    with caplog.at_level(logging.WARNING, logger="hubscope.proxy"):
        for _ in range(3):
            status, text = await without_key.get(token)
            assert status == 401 and "<Detail>InvalidAudience" in text
    lines = [r.getMessage() for r in caplog.records if "InvalidAudience" in r.getMessage()]
    assert len(lines) == 1, "one line, not one per request"
    assert "127.0.0.1 refused a token signed for localhost" in lines[0]
    assert "--connection-string" in lines[0] and "--forward" in lines[0]
    await serve.stop([without_key.proxy])
    audit = CliRunner().invoke(cli, ["audit", "--db", str(without_key.db), "--format", "json"])
    assert audit.exit_code == 1, audit.output
    findings = json.loads(audit.output)["findings"]
    [finding] = [f for f in findings if f["rule"].startswith("sas.")][:1]
    assert finding["rule"] == "sas.audience-proxy" and "the hub answered 401" in finding["actual"]
    assert "--connection-string" in finding["expected"] and "--forward" in finding["expected"]
    assert {f["rule"] for f in findings if f["rule"].startswith("sas.")} == {"sas.audience-proxy"}


async def test_with_a_key_a_refusal_says_why_hubscope_did_not_re_sign(
    with_key: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    token = js_token(with_key.called, "not-the-key")
    with caplog.at_level(logging.WARNING, logger="hubscope.proxy"):
        status, _ = await with_key.get(token)
    assert status == 401
    [line] = [r.getMessage() for r in caplog.records]
    assert "did not re-sign it because its signature does not verify under the key" in line


def test_decisions_parse_only_what_they_need() -> None:
    key = "k"
    resigner = Resigner({FULL_RULE: key}, "https://ns.servicebus.windows.net")
    assert "k" not in repr(resigner).replace("keys", "")
    now = time.time()

    def decide(token: str, called: str = "localhost:8080") -> str:
        decision = resigner.decide((("Authorization", token),), called, now=now)
        return decision.verdict or decision.why_not

    assert decide(js_token("localhost:8080", key)).startswith(
        "valid; re-signed by hubscope for http://ns.servicebus.windows.net/"
    )
    assert decide(js_token("ns.servicebus.windows.net", key)) == (
        "the token already names ns.servicebus.windows.net"
    )
    assert "neither hubscope" in decide(js_token("other.example", key))
    assert "does not hold" in decide(js_token("localhost:8080", key, "Other"))
    assert decide(js_token("localhost:8080", key, ttl=-1)) == "the token has expired"
    assert "does not verify" in decide(js_token("localhost:8080", "wrong"))
    assert "no SharedAccessSignature" in decide("Bearer x")
    assert resigner.decide((), "localhost", now=now).headers is None
