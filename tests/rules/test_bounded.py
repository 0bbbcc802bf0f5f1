"""The bounded map session rules remember keys in: never more than its cap."""

from __future__ import annotations

from proxy.rules.bounded import BoundedMap


def test_the_oldest_key_is_forgotten_past_the_cap() -> None:
    seen: BoundedMap[str, int] = BoundedMap(cap=3)
    for i, key in enumerate("abcd"):
        seen[key] = i
    assert list(seen) == ["b", "c", "d"]


def test_writing_a_key_again_makes_it_the_newest() -> None:
    seen: BoundedMap[str, int] = BoundedMap(cap=3)
    for key in "abc":
        seen[key] = 0
    seen["a"] = 1
    seen["d"] = 0
    assert list(seen) == ["c", "a", "d"] and seen["a"] == 1


def test_setdefault_respects_the_cap() -> None:
    seen: BoundedMap[int, int] = BoundedMap(cap=10)
    for i in range(100):
        seen.setdefault(i, i)
    assert len(seen) == 10 and min(seen) == 90
