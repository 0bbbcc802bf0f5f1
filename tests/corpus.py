"""Readers for the real-traffic corpus in `tests/data/real-traffic/` (test helpers)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from proxy.exchange import Headers, Message

CORPUS = Path(__file__).resolve().parent / "data" / "real-traffic"
"""The corpus root, in the repository (a copy of `shared/corpus/real-traffic`, see SOURCES.md)."""

DOTNET_MOCKS = CORPUS / "Azure+azure-notificationhubs-dotnet" / "MockData"
JAVA_FIXTURES = CORPUS / "Azure+azure-notificationhubs-java-backend" / "test-fixtures"
LOCAL_CAPTURE = CORPUS / "local-capture"


@dataclass(frozen=True, slots=True, kw_only=True)
class CorpusExchange:
    """One request (and its response when the source recorded one) from a corpus file."""

    source: str
    """`{file name}#{index}`, for assertion messages."""

    method: str
    url: str
    request: Message
    status: int | None = None
    response: Message | None = None


def _headers(mapping: dict[str, object] | None) -> Headers:
    """Recorded header dicts to wire-order pairs (lists become repeats)."""
    pairs: list[tuple[str, str]] = []
    for key, value in (mapping or {}).items():
        values = value if isinstance(value, list) else [value]
        pairs.extend((key, str(v)) for v in values)
    return tuple(pairs)


def recorded_body(value: object, headers: Headers) -> bytes:
    """A test-proxy body back to bytes: null, a JSON value, text, or base64 text."""
    if value is None:
        return b""
    if not isinstance(value, str):
        return json.dumps(value, separators=(",", ":")).encode()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return value.encode()
    # Text that happens to be valid base64 is rare; accept the decoding only when it fits.
    length = next((v for k, v in headers if k.lower() == "content-length"), None)
    if (length is not None and length == str(len(raw))) or raw.lstrip()[:1] in (b"<", b"{", b"["):
        return raw
    return value.encode()


def iter_recording_entries(path: Path) -> Iterator[CorpusExchange]:
    """Entries of an Azure test-proxy recording (`{"Entries": [...]}`)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for index, entry in enumerate(data["Entries"]):
        req_headers = _headers(entry.get("RequestHeaders"))
        resp_headers = _headers(entry.get("ResponseHeaders"))
        yield CorpusExchange(
            source=f"{path.name}#{index}",
            method=entry["RequestMethod"],
            url=entry["RequestUri"],
            request=Message(
                headers=req_headers, body=recorded_body(entry.get("RequestBody"), req_headers)
            ),
            status=entry.get("StatusCode"),
            response=Message(
                headers=resp_headers,
                body=recorded_body(entry.get("ResponseBody"), resp_headers),
            ),
        )


def iter_local_capture(path: Path) -> Iterator[CorpusExchange]:
    """Requests of a local-capture JSONL file (no responses were kept)."""
    with path.open(encoding="utf-8") as lines:
        for index, line in enumerate(lines):
            if not line.strip():
                continue
            record = json.loads(line)
            raw = record.get("rawHeaders") or []
            headers = tuple(zip(raw[::2], raw[1::2], strict=True))
            body = record.get("body") or ""
            yield CorpusExchange(
                source=f"{path.name}#{index}",
                method=record["method"],
                url=record["url"],
                request=Message(headers=headers, body=body.encode("utf-8")),
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class MockCall:
    """One recorded response of a .NET MockData `.http` file (requests were not kept)."""

    source: str
    path: str
    """`RequestUriPath`: path and query, without the method."""

    status: int
    response: Message


_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def read_http_mock(path: Path, *, lenient: bool = False) -> list[MockCall]:
    """The calls of a .NET `.http` MockData file.

    Raises `json.JSONDecodeError` on a malformed file unless `lenient`, which
    removes trailing commas first (one original file has one).
    """
    text = path.read_text(encoding="utf-8")
    data = json.loads(_TRAILING_COMMA.sub(r"\1", text) if lenient else text)
    calls: list[MockCall] = []
    for index, call in enumerate(data["HttpCalls"]):
        headers = _headers(call.get("Headers")) + _headers(call.get("ContentHeaders"))
        content = call.get("Content")
        calls.append(
            MockCall(
                source=f"{path.name}#{index}",
                path=call["RequestUriPath"],
                status=call["StatusCode"],
                response=Message(headers=headers, body=(content or "").encode("utf-8")),
            )
        )
    return calls


def http_mocks() -> list[Path]:
    """Every .NET MockData file."""
    return sorted(DOTNET_MOCKS.glob("*.http"))


def recordings() -> list[Path]:
    """Every test-proxy recording."""
    return sorted(CORPUS.glob("Azure+azure-sdk-*/**/*.json"))


def local_captures() -> list[Path]:
    """Every local-capture JSONL file."""
    return sorted(LOCAL_CAPTURE.glob("*/*.jsonl"))


def java_fixtures() -> list[Path]:
    """Every Java SDK parser fixture (bare XML or JSON)."""
    return sorted(p for p in JAVA_FIXTURES.iterdir() if p.is_file())
