"""The rules are documented, and the sentences they quote from the seeds are really there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from proxy.rules import rules
from tests.outside import needs

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
DOCS = (ROOT / "docs" / "spec-rules.md").read_text(encoding="utf-8")


def _normal(text: str) -> str:
    """HTML tags, Markdown table, heading and emphasis marks dropped, whitespace collapsed."""
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"[|*`#:]", " ", text.replace("&lt;", "<").replace("&gt;", ">"))
    return " ".join(text.split())


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r.id)
def test_rule_is_in_the_docs_with_its_severity(rule: object) -> None:
    expected = rule.expected.replace("|", "\\|")  # type: ignore[attr-defined]
    row = f"| [`{rule.id}`](#{rule.id}) | {rule.severity} | {expected} |"  # type: ignore[attr-defined]
    assert row in DOCS


SEEDED = [r for r in rules() if r.source.startswith("seeds/")]


@needs((SHARED / "seeds").is_dir(), "shared/seeds")
@pytest.mark.parametrize("rule", SEEDED, ids=lambda r: r.id)
def test_seed_sentence_is_quoted_verbatim(rule: object) -> None:
    page = rule.source.split("#")[0]  # type: ignore[attr-defined]
    seed = _normal((SHARED / page).read_text(encoding="utf-8"))
    assert _normal(rule.spec) in seed  # type: ignore[attr-defined]
