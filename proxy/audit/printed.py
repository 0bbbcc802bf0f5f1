"""`--format json` as the audit runs: each finding printed when it is found.

A stored finding is printed from its row: what its rule and stored declaration print is
the same for all of its findings, so it is encoded once (from a real `Finding`, so the
text is what `json` prints for one) and only the exchange id and the actual value are
encoded per finding.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Protocol

from proxy.audit.pages import StoredFinding, stored_finding
from proxy.rules import Finding

_dump = json.JSONEncoder(ensure_ascii=False).encode


class Counted(Protocol):
    exchanges: int


class Printer:
    """Findings as the JSON objects `--format json` lists."""

    def __init__(self) -> None:
        self._fragments: dict[tuple[str | None, ...], tuple[str, str]] = {}

    def finding(self, finding: Finding) -> str:
        return _dump(finding.as_json())

    def stored(self, values: StoredFinding) -> str:
        """A stored finding's row, printed as `finding` prints it as a `Finding`."""
        key = values[1:3] + values[5:]
        fragments = self._fragments.get(key)
        if fragments is None:
            if len(self._fragments) > 4096:  # overridden expectations may vary without end
                self._fragments.clear()
            fragments = self._fragments[key] = _fragments(stored_finding(values))
        middle, tail = fragments
        return f'{{"exchange_id": {encode_basestring(values[0])}{middle}' + (
            f"{encode_basestring(values[3] or '')}{tail}"
        )


def _fragments(finding: Finding) -> tuple[str, str]:
    """What `_dump(finding.as_json())` prints between the exchange id and the actual
    value, and after it: the same for every finding of its rule and stored declaration."""
    fields = finding.as_json()
    keys = list(fields)
    if keys[0] != "exchange_id" or "actual" not in keys:
        raise ValueError(f"unexpected finding fields: {keys}")
    cut = keys.index("actual")
    parts = [f"{_dump(k)}: {_dump(v)}" for k, v in fields.items()]
    middle = ", ".join(["", *parts[1:cut], f"{_dump('actual')}: "])
    return middle, ", ".join(["", *parts[cut + 1 :]]) + "}"


class JsonStream:
    """`{"findings": [{exchange_id, rule, severity, …}, …], "exchanges": N}`, written as
    found, a few hundred findings at a time; the count comes last because it is known last.
    """

    def __init__(self, write: Callable[[str], object], *, batch: int = 500) -> None:
        self._write = write
        self._batch = batch
        self._held: list[str] = []
        self._first = True
        self.printer = Printer()
        write('{"findings": [')

    def finding(self, finding: Finding) -> None:
        self.printed(self.printer.finding(finding))

    def stored(self, values: StoredFinding) -> None:
        self.printed(self.printer.stored(values))

    def printed(self, text: str) -> None:
        """Findings already printed (several joined by ", ")."""
        if self._first:
            self._first = False
        else:
            text = ", " + text
        self._held.append(text)
        if len(self._held) >= self._batch:
            self.flush()

    def printed_all(self, texts: list[str]) -> None:
        """Several exchanges' printed findings ("" where one has none), written at once."""
        text = ", ".join([text for text in texts if text])
        if text:
            self.printed(text)
            self.flush()  # a page's worth: holding more would only hold memory

    def flush(self) -> None:
        if self._held:
            self._write("".join(self._held))
            self._held.clear()

    def end(self, audit: Counted) -> None:
        self.flush()
        self._write(f'], "exchanges": {audit.exchanges}}}\n')
