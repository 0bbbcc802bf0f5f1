"""Send the original requests to the target in order, record them and compare the answers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from dataclasses import replace as copy

import aiohttp
from yarl import URL

from proxy import redact, sas, store
from proxy.exchange import Clock, Exchange, Headers, Message, new_id
from proxy.model import Decoded
from proxy.recording.recorder import Recorder
from proxy.replay.compare import Comparison, Difference, compare
from proxy.replay.load import Recorded, decode
from proxy.replay.remap import AUTHORIZATION, Remapper
from proxy.signing import Signer, shape_of
from proxy.store.location import Location

_AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")
MIN_EXPIRED_S = 600
"""A reproduced expired token is at least this stale, beyond any clock skew the hub allows."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """One request as it will go to the target."""

    method: str
    url: str
    headers: Headers
    body: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What happened to one original exchange."""

    recorded: Recorded
    sent: Prepared | None
    replay_id: str | None
    status: int | None
    comparison: Comparison
    detail: str | None = None
    """The target's Notification Hubs error (`401 ExpiredToken: …`), when it sent one."""


@dataclass(slots=True, kw_only=True)
class Result:
    """A whole replay: every outcome, and whether it was cut short."""

    session: str
    replay_session: str | None
    target: str
    total: int
    outcomes: list[Outcome] = field(default_factory=list)
    interrupted: bool = False


def expired_refusal(item: Recorded) -> int | None:
    """Seconds the original token had expired when the hub refused it with 401, else None.

    Re-signing such a request with a fresh token would turn the refusal into a success;
    the replay signs it with a token as stale instead, so the comparison stays meaningful.
    """
    if item.exchange.status != 401:
        return None
    authorization = item.exchange.request.header(AUTHORIZATION)
    token = sas.parse_token(authorization) if authorization else None
    if token is None or token.expiry is None:
        return None
    lag = item.exchange.started_at - token.expiry
    return int(lag) if lag > 0 else None


def prepare(remapper: Remapper, signer: Signer, item: Recorded, *, dry_run: bool) -> Prepared:
    """Rewrite one original request for the target and sign it (or show a placeholder)."""
    ex = item.exchange
    url = remapper.url(ex.url)
    authorization = ex.request.header(AUTHORIZATION)
    token = None
    if authorization is not None:
        shape = shape_of(authorization, ex.url)
        stale = expired_refusal(item)
        if stale is not None:
            signer = copy(signer, ttl=-max(stale, MIN_EXPIRED_S))
        token = signer.placeholder(shape, url) if dry_run else signer.token(shape, url)
    headers = remapper.headers(ex.request.headers, token, item.decoded.operation.resource_id)
    return Prepared(method=ex.method, url=url, headers=headers, body=remapper.body(ex.request.body))


async def send(http: aiohttp.ClientSession, request: Prepared, session: str) -> Exchange:
    """Send one request and capture the exchange exactly as it went and came back."""
    clock = Clock()
    present = {name.lower() for name, _ in request.headers}
    skip = [name for name in _AUTO_HEADERS if name.lower() not in present]
    base = Exchange(
        id=new_id(),
        session=session,
        started_at=clock.started_at,
        duration_ms=0,
        method=request.method,
        url=request.url,
        request=Message(headers=request.headers, body=request.body),
    )
    try:
        async with http.request(
            request.method,
            URL(request.url, encoded=True),
            headers=list(request.headers),
            data=request.body or None,
            skip_auto_headers=skip,
            allow_redirects=False,
        ) as response:
            body = await response.read()
            headers = tuple(
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers
            )
            return copy(
                base,
                duration_ms=clock.elapsed_ms(),
                status=response.status,
                reason=response.reason,
                response=Message(headers=headers, body=body),
            )
    except (aiohttp.ClientError, TimeoutError) as error:
        return copy(
            base, duration_ms=clock.elapsed_ms(), error=f"{type(error).__name__}: {error}"
        )


def skipped(item: Recorded, why: str) -> Outcome:
    return Outcome(
        recorded=item,
        sent=None,
        replay_id=None,
        status=None,
        comparison=Comparison(verdict="skipped", notes=(why,)),
    )


async def pause(
    delay_ms: float | None,
    item: Recorded,
    previous: Recorded | None,
    last_sent: float,
    stop: asyncio.Event,
) -> None:
    """Wait as asked: the original gap (None), or a fixed number of milliseconds."""
    if previous is None:
        return
    if delay_ms is None:
        gap = item.exchange.started_at - previous.exchange.started_at
        wait = gap - (time.monotonic() - last_sent)
    else:
        wait = delay_ms / 1000
    if wait > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)


async def replay(
    items: list[Recorded],
    *,
    db_path: Location,
    session: str,
    replay_session: str,
    remapper: Remapper,
    signer: Signer,
    recorder: Recorder,
    delay_ms: float | None = 0,
    timeout: float = 60.0,
    stop: asyncio.Event | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> Result:
    """Replay `items` in order; `stop` ends the run after the request in flight."""
    stop = stop or asyncio.Event()
    result = Result(
        session=session, replay_session=replay_session, target=remapper.target, total=len(items)
    )
    previous: Recorded | None = None
    last_sent = time.monotonic()
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(auto_decompress=False, timeout=client_timeout) as http:
        for item in items:
            await pause(delay_ms, item, previous, last_sent, stop)
            if stop.is_set():
                result.interrupted = True
                break
            previous, last_sent = item, time.monotonic()
            outcome, exchange = await replay_one(http, item, replay_session, remapper, signer)
            if exchange is not None:
                recorder.submit(exchange)
            result.outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
    recorder.close()
    write_links(db_path, result.outcomes)
    return result


async def replay_one(
    http: aiohttp.ClientSession, item: Recorded, session: str, remapper: Remapper, signer: Signer
) -> tuple[Outcome, Exchange | None]:
    """Send one request, learn the target's ids and ETags, compare the answers."""
    if item.request_truncated:
        return skipped(item, "request body was truncated when recorded"), None
    prepared = prepare(remapper, signer, item, dry_run=False)
    exchange = await send(http, prepared, session)
    if exchange.status is None:
        failed = Comparison(
            verdict="failed",
            differences=(
                Difference("status", str(item.exchange.status), f"failed ({exchange.error})"),
            ),
        )
        return Outcome(
            recorded=item, sent=prepared, replay_id=exchange.id, status=None, comparison=failed
        ), exchange
    decoded = decode(exchange)
    remapper.learn(item.op, (item.decoded, item.exchange.response), (decoded, exchange.response))
    comparison = compare(
        item.op,
        (item.exchange.status, item.decoded),
        (exchange.status, decoded),
        remapper.ids,
        bodies=not item.response_truncated,
    )
    notes = auth_notes(item, exchange.status, nh_error(item.decoded))
    if notes:
        comparison = copy(comparison, notes=(*comparison.notes, *notes))
    detail = nh_error(decoded)
    return Outcome(
        recorded=item,
        sent=prepared,
        replay_id=exchange.id,
        status=exchange.status,
        comparison=shown(comparison),
        detail=redact.text(detail) if detail else detail,
    ), exchange


def shown(comparison: Comparison) -> Comparison:
    """The comparison as the report and replay_links may show it: without the secrets the
    target answered. The recorded side was stored redacted, so a difference only in a
    secret is no difference."""
    differences = []
    for difference in comparison.differences:
        original, replay = (
            redact.text(value) if value else value
            for value in (difference.original, difference.replay)
        )
        if original != replay:
            differences.append(Difference(difference.field, original, replay))
    verdict = comparison.verdict
    if verdict == "different" and not differences:
        verdict = "same"
    notes = tuple(redact.text(note) for note in comparison.notes)
    return Comparison(verdict=verdict, differences=tuple(differences), notes=notes)


def nh_error(decoded: Decoded) -> str | None:
    """`ExpiredToken: The token is expired.`-style text of a decoded error answer."""
    error = decoded.response.error if decoded.response is not None else None
    if error is None:
        return None
    detail = (error.detail or "").split("TrackingId:")[0].strip().rstrip(".") + "."
    return detail if detail != "." else error.code


def auth_notes(item: Recorded, status: int | None, original_error: str | None) -> list[str]:
    """Why an answer about the token differs (or does not) from the original's."""
    stale = expired_refusal(item)
    if stale is not None:
        return [
            f"the original token had expired {stale} s before the request and the hub refused "
            f"it; replayed with a token expired {max(stale, MIN_EXPIRED_S)} s, as stale"
        ]
    if item.exchange.status == 401 and status is not None and status != 401:
        why = f" {original_error}" if original_error else ""
        return [
            f"the original was refused for its token (401{why}); the replay signs every "
            "request with a fresh token from --connection-string, so the hub accepted it"
        ]
    return []


def write_links(db_path: Location, outcomes: list[Outcome]) -> None:
    """One `replay_links` row per replayed exchange, for the viewer's side-by-side view."""
    rows = [
        {
            "replay_exchange_id": o.replay_id,
            "original_exchange_id": o.recorded.exchange.id,
            "verdict": o.comparison.verdict,
            "diff": json.dumps(
                [[d.field, d.original, d.replay] for d in o.comparison.differences],
                ensure_ascii=False,
            ),
        }
        for o in outcomes
        if o.replay_id is not None
    ]
    db = store.connect(db_path)
    try:
        with db.conn:
            db.table("replay_links").insert_all(rows, replace=True)
    finally:
        db.conn.close()
