"""`hubscope export`: stored exchanges out as HAR or JSON Lines, optionally masked."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, Literal

from proxy.io import har, jsonl
from proxy.io.facts import Item, assess, judged
from proxy.io.mask import Kind, Masker

Format = Literal["har", "jsonl"]
FORMATS: tuple[Format, ...] = ("har", "jsonl")
MEDIA_TYPES = {"har": "application/json", "jsonl": "application/x-ndjson"}

Rows = Callable[[], Iterable[dict[str, Any]]]
"""Gives the rows to export, oldest first; called twice when masking (learn, then write)."""


def masked(masker: Masker, item: Item) -> Item:
    """The item with its exchange masked, then decoded and judged again as it now reads."""
    exchange = masker.exchange(item.exchange)
    row = dict(item.row)
    for side, message in (("request", exchange.request), ("response", exchange.response)):
        if message is not None and not row.get(f"{side}_truncated"):
            row[f"{side}_body_size"] = len(message.body)
        row[f"{side}_body_sha256"] = None  # a hash of the original would confirm a guess
    return assess(exchange, row)


def items(rows: Rows, mask: frozenset[Kind] = frozenset()) -> Iterator[Item]:
    """Every row judged, masked when asked (all values learned before the first is written)."""
    if not mask:
        yield from judged(rows())
        return
    masker = Masker(mask)
    for item in judged(rows()):
        masker.learn(item.exchange, item.decoded)
    for item in judged(rows()):
        yield masked(masker, item)


def export(
    rows: Rows,
    out: IO[str],
    fmt: Format,
    *,
    mask: frozenset[Kind] = frozenset(),
    comment: str = "",
) -> int:
    """Write the rows in `fmt` to `out`; returns how many exchanges."""
    selected = items(rows, mask)
    if fmt == "har":
        return har.write(selected, out, comment=comment)
    return jsonl.write(selected, out)
