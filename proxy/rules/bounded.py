"""A map that forgets its oldest keys past a cap: session rules' state stays bounded."""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")

STATE_CAP = 100_000
"""Keys (handles, registration ids) one session rule remembers per session; beyond it the
least recently seen are forgotten, so a rule may miss a repeat that far apart."""


class BoundedMap(OrderedDict[K, V]):
    """An insertion-ordered dict of at most `cap` keys; writing a key makes it the newest."""

    def __init__(self, cap: int = STATE_CAP) -> None:
        super().__init__()
        self.cap = cap

    def __setitem__(self, key: K, value: V) -> None:
        if key in self:
            self.move_to_end(key)
        _set(self, key, value)  # not super(): this runs for every key a session rule sees
        if len(self) > self.cap:
            self.popitem(last=False)


_set = OrderedDict.__setitem__
