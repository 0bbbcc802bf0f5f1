"""Rules on the Authorization header: a SharedAccessSignature, unexpired, for this host."""

from __future__ import annotations

from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from proxy import sas
from proxy.model import Op
from proxy.rules import citations, era
from proxy.rules.context import Ctx
from proxy.rules.findings import Breach
from proxy.rules.registry import KNOWN_OPS, rule

HEADERS = "request-headers"
SEED = f"seeds/create-registration.md#{HEADERS}"
SPEC = "spec/nh-rest-api.md"


def _token(ctx: Ctx) -> sas.SasToken | None:
    return ctx.token


def _has_token(ctx: Ctx) -> bool:
    return ctx.op is not Op.UNKNOWN and _token(ctx) is not None


@lru_cache(maxsize=4096)
def _audience_matches(audience: str, host: str, hub: str | None) -> bool:
    return sas.audience_matches(audience, host, hub)  # tokens repeat across a session


def request_clock(ctx: Ctx) -> float:
    """When the request was made by its own clock: its Date header, else the capture time."""
    date = ctx.header("Date") or ctx.header("x-ms-date")
    if date:
        try:
            return parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            pass
    return ctx.exchange.started_at


AUTHORIZATION = (
    "Authorization | Token generated as specified in Shared Access Signature Authentication with "
    "Service Bus, or Service Bus authentication and authorization with Microsoft Azure Active "
    "Directory Access Control (also known as Access Control Service or ACS)."
)


def _problem(ctx: Ctx) -> str | None:
    """What is wrong with the request's Authorization header, if anything."""
    value = ctx.header("Authorization")
    if value is None:
        return "no Authorization header"
    if ctx.token is None:
        return f"scheme {value.strip().split(' ', 1)[0][:40]!r}"
    return None


def _judgeable(ctx: Ctx) -> bool:
    return ctx.op is not Op.UNKNOWN and not era.token_removed(ctx)


@rule(
    "common.authorization",
    severity="error",
    spec=AUTHORIZATION,
    source=SEED,
    expected="Authorization: SharedAccessSignature sr=…&sig=…&se=…&skn=… (ACS is retired)",
    applies=lambda ctx: _judgeable(ctx) and not era.authenticated(ctx),
    ops=KNOWN_OPS,
)
def _authorization(ctx: Ctx) -> Iterator[Breach]:
    problem = _problem(ctx)
    if problem is not None:
        yield Breach(
            actual=problem, pointer="header:Authorization", source=citations.seed(ctx.op, HEADERS)
        )


@rule(
    "common.authorization-unjudged",
    severity="note",
    spec=AUTHORIZATION,
    source=SEED,
    expected="a SharedAccessSignature the recording kept (else nothing to judge)",
    applies=lambda ctx: ctx.op is not Op.UNKNOWN,
    ops=KNOWN_OPS,
)
def _authorization_unjudged(ctx: Ctx) -> Iterator[Breach]:
    source = citations.seed(ctx.op, HEADERS)
    if era.token_removed(ctx):
        value = (ctx.header("Authorization") or "").strip()
        yield Breach(actual=f"Authorization: {value} (the recording removed the token; "
                     "not judged)", pointer="header:Authorization", source=source)  # fmt: skip
        return
    problem = _problem(ctx)
    if problem is not None and era.authenticated(ctx):
        yield Breach(
            actual=f"{problem}, yet {era.describe(ctx)}: the call was authenticated (an ACS "
            "token of the 2013 preview, or a recording that kept no request headers)",
            pointer="header:Authorization",
            source=source,
        )


@rule(
    "sas.fields",
    severity="error",
    spec="`Authorization: SharedAccessSignature sr={enc-resource}&sig={enc-signature}"
    "&se={expiry}&skn={keyName}`",
    source=f"{SPEC} §2.2",
    expected="sr, sig and an integer se in the token",
    applies=_has_token,
    ops=KNOWN_OPS,
)
def _fields(ctx: Ctx) -> Iterator[Breach]:
    token = _token(ctx)
    assert token is not None
    missing = [name for name in ("sr", "sig", "se") if getattr(token, name) in (None, "")]
    if missing:
        yield Breach(actual=f"missing {', '.join(missing)}", pointer="header:Authorization")
    elif token.expiry is None:
        yield Breach(actual=f"se={token.se!r} is not an integer", pointer="header:Authorization")


@rule(
    "sas.skn",
    severity="error",
    spec="`skn`: the rule (key) name.",
    source=f"{SPEC} §2.2",
    expected="the key name in skn",
    applies=_has_token,
    ops=KNOWN_OPS,
)
def _skn(ctx: Ctx) -> Iterator[Breach]:
    token = _token(ctx)
    if token is not None and not token.skn:
        yield Breach(actual="no skn", pointer="header:Authorization")


@rule(
    "sas.expired",
    severity="error",
    spec="`se`: expiry as integer seconds since the Unix epoch (UTC).",
    source=f"{SPEC} §2.2",
    expected="se later than the request's own clock (Date header, else capture time)",
    applies=lambda ctx: ctx.token is not None and ctx.token.expiry is not None,
    ops=KNOWN_OPS,
)
def _expired(ctx: Ctx) -> Iterator[Breach]:
    token = _token(ctx)
    expiry = token.expiry if token is not None else None
    now = request_clock(ctx)
    if expiry is not None and expiry < now:
        yield Breach(
            actual=f"expired {int(now - expiry)} s before the request (se={expiry})",
            pointer="header:Authorization",
        )


@rule(
    "sas.audience",
    severity="error",
    spec="So the service evidently treats `sr` as a scope: the namespace root, the hub, or any "
    "deeper URL (with or without query) is accepted",
    source=f"{SPEC} §2.3; spec/real-clients.md §6",
    expected="sr naming the host called (namespace root, hub or deeper URL, http or https)",
    applies=lambda ctx: ctx.token is not None and bool(ctx.token.sr),
    ops=KNOWN_OPS,
)
def _audience(ctx: Ctx) -> Iterator[Breach]:
    token = _token(ctx)
    audience = (token.audience or "") if token is not None else ""
    hub = ctx.decoded.operation.hub
    if not (
        _audience_matches(audience, ctx.url_host, hub) or _audience_matches(audience, ctx.host, hub)
    ):
        yield Breach(
            actual=f"sr={unquote(audience)} for a call to {ctx.host}/{hub or ''}",
            pointer="header:Authorization",
        )


@rule(
    "sas.signature",
    severity="error",
    spec='String-to-sign = `{sr as sent}` + `"\\n"` + `{se}` (UTF-8).',
    source=f"{SPEC} §2.3",
    expected="a signature that verifies with the configured key (checked at capture time)",
    applies=lambda ctx: (ctx.exchange.sas_verdict or "").startswith(("valid", "invalid")),
)
def _signature(ctx: Ctx) -> Iterator[Breach]:
    verdict = ctx.exchange.sas_verdict or ""
    if verdict.startswith("invalid"):
        yield Breach(actual=verdict, pointer="header:Authorization")


@lru_cache(maxsize=1024)
def _hostname(value: str) -> str | None:
    try:
        return urlsplit(f"//{value}" if "://" not in value else value).hostname
    except ValueError:
        return None


def _names_the_proxy(ctx: Ctx) -> bool:
    """The token names the host the app called (hubscope, in reverse mode), not the hub."""
    token = ctx.token
    if token is None or not token.sr or "re-signed" in (ctx.exchange.sas_verdict or ""):
        return False
    named, called = _hostname((token.audience or "").strip()), _hostname(ctx.host)
    return named is not None and named == called and called != _hostname(ctx.url_host)


@rule(
    "sas.audience-proxy",
    severity="error",
    spec="InvalidAudience: The authorization header contains a token with a wrong audience.",
    source=f"the service's 401 text (github.com/sandrinodimattia/RedDog/issues/4); {SPEC} §2.3",
    expected="a token for the hub's host (the app signed for hubscope's address: give "
    "`hubscope proxy` the rule's key with --connection-string so it re-signs, or run "
    "`hubscope proxy --forward` with HTTPS_PROXY so the app keeps its real endpoint)",
    applies=_names_the_proxy,
    ops=KNOWN_OPS,
)
def _audience_proxy(ctx: Ctx) -> Iterator[Breach]:
    token = _token(ctx)
    hub = _hostname(ctx.url_host)
    answered = f"; the hub answered {ctx.status}" if ctx.status is not None else ""
    yield Breach(
        actual=f"sr={token.audience if token else ''} names {ctx.host}, the address the app "
        f"called, not the hub {hub}{answered}",
        pointer="header:Authorization",
    )
