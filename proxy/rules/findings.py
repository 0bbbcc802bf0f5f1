"""Findings: what one rule concluded about one exchange, with the evidence for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "note", "ok"]
"""`ok` marks a rule that applied and was met (the viewer's "meets" column)."""

SEVERITIES: tuple[Severity, ...] = ("error", "warning", "note", "ok")
"""Worst first."""

RANK: dict[str, int] = {name: len(SEVERITIES) - i for i, name in enumerate(SEVERITIES)}
"""Higher is worse: error 4, warning 3, note 2, ok 1."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One expectation of the spec, met or broken by one exchange."""

    exchange_id: str
    rule: str
    """Rule id, e.g. `registration.element-order-required`."""

    severity: Severity
    expected: str
    actual: str
    spec: str
    """The sentence of the spec that states the expectation, quoted."""

    source: str
    """Where the sentence comes from: `seeds/create-registration.md#request-body`, or
    `spec/nh-rest-api.md §14` for real-service evidence."""

    pointer: str | None = None
    """The offending part: an XML element name, a JSON pointer or `header:Name`."""

    url: str | None = None
    """The public page (with its section's anchor) where the sentence or its evidence is."""

    docs: str | None = None
    """hubscope's own explanation of the rule: `docs/spec-rules.md#{rule}`."""

    @property
    def ok(self) -> bool:
        """True when the expectation was met."""
        return self.severity == "ok"

    def as_json(self) -> dict[str, str | None]:
        """The fields `hubscope audit --format json` prints for each finding."""
        return {
            "exchange_id": self.exchange_id,
            "rule": self.rule,
            "severity": self.severity,
            "expected": self.expected,
            "actual": self.actual,
            "spec": self.spec,
            "source": self.source,
            "url": self.url,
            "docs": self.docs,
        }


@dataclass(frozen=True, slots=True)
class Breach:
    """What a rule's check yields when the exchange breaks it."""

    actual: str
    pointer: str | None = None
    expected: str | None = None
    """Overrides the rule's general expectation with a specific one."""

    spec: str | None = None
    """Overrides the rule's sentence when several seed pages state the same rule."""

    source: str | None = None
