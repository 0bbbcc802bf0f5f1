"""The DataContract element order of every `*RegistrationDescription` and how to judge it.

The service deserialises with .NET DataContract rules: an element read after a later one
is not expected; a required one then fails the request (400), an optional one is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from proxy.contract import contract_for


def canonical(source_type: str) -> tuple[tuple[str, bool], ...] | None:
    """(element, required) pairs in DataContract order, or None for an unknown type."""
    contract = contract_for(source_type)
    return contract.members if contract is not None else None


@dataclass(frozen=True, slots=True)
class Misplaced:
    """An element that comes after one the DataContract order puts after it."""

    element: str
    required: bool
    after: str
    """The element it should have preceded (the last one read in order before it)."""


def misplaced(elements: tuple[str, ...], order: tuple[tuple[str, bool], ...]) -> list[Misplaced]:
    """Elements the service would not read in place, walking as DataContract does."""
    position, required = _indexed(order)
    found: list[Misplaced] = []
    cursor, last = 0, ""
    for name in elements:
        at = position.get(name)
        if at is None:
            continue
        if at >= cursor:
            cursor, last = at + 1, name
        else:
            found.append(Misplaced(name, required[name], last))
    return found


@lru_cache(maxsize=64)
def _indexed(order: tuple[tuple[str, bool], ...]) -> tuple[dict[str, int], dict[str, bool]]:
    """Each element's place and whether it is required (a few orders judge every request;
    the dicts are only read)."""
    return {name: i for i, (name, _) in enumerate(order)}, dict(order)


def order_text(order: tuple[tuple[str, bool], ...], present: tuple[str, ...]) -> str:
    """The canonical order of the elements that are present, as `A, B, C`."""
    names = set(present)
    return ", ".join(name for name, _ in order if name in names)
