"""The test data lives in the repository, and stays true to where it came from.

`tests/data/real-traffic/` is a copy of the team's research corpus and `seed-quotes.json`
holds the sentences the rules quote from the seed pages. Both are checked against
`shared/` wherever it exists (always under CI, see tests/outside.py); everything else in
the suite reads only the repository's copies.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from proxy.rules import rules
from tests.corpus import CORPUS
from tests.outside import SHARED, needs

DATA = Path(__file__).resolve().parent / "data"
QUOTES = json.loads((DATA / "seed-quotes.json").read_text(encoding="utf-8"))["quotes"]
SHARED_CORPUS = SHARED / "corpus" / "real-traffic"
OWN_FILES = {"SOURCES.md"}
"""Files of the copy that are the repository's own (provenance and licences added)."""


def _normal(text: str) -> str:
    """HTML tags, Markdown table, heading and emphasis marks dropped, whitespace collapsed."""
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"[|*`#:]", " ", text.replace("&lt;", "<").replace("&gt;", ">"))
    return " ".join(text.split())


def test_every_seed_sentence_a_rule_quotes_is_kept_in_the_repository() -> None:
    kept = {(q["source"], q["sentence"]) for q in QUOTES}
    quoted = {(r.source, r.spec) for r in rules() if r.source.startswith("seeds/")}
    assert quoted, "no rule quotes a seed page any more: is seeds/ still the source prefix?"
    assert quoted <= kept, sorted(quoted - kept)


@needs((SHARED / "seeds").is_dir(), "shared/seeds")
@pytest.mark.parametrize("quote", QUOTES, ids=[q["rule"] for q in QUOTES])
def test_each_kept_sentence_is_in_its_seed_page(quote: dict[str, str]) -> None:
    page = SHARED / quote["source"].split("#")[0]
    assert _normal(quote["sentence"]) in _normal(page.read_text(encoding="utf-8"))


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name not in OWN_FILES
    }


@needs(SHARED_CORPUS.is_dir(), "shared/corpus/real-traffic")
def test_the_corpus_copy_is_byte_for_byte_the_shared_corpus() -> None:
    ours, theirs = _files(CORPUS), _files(SHARED_CORPUS)
    assert sorted(ours) == sorted(theirs)
    changed = [name for name in ours if ours[name] != theirs[name]]
    assert not changed, changed
    assert len(ours) >= 110


def test_every_corpus_folder_has_its_licence_and_provenance() -> None:
    sources = (CORPUS / "SOURCES.md").read_text(encoding="utf-8")
    licences = sources.split("## Licences", 1)[1].split("##", 1)[0]
    for folder in sorted(p.name for p in CORPUS.iterdir() if p.is_dir()):
        row = next((line for line in licences.splitlines() if f"`{folder}/`" in line), "")
        assert re.search(r"MIT|Apache-2\.0", row), f"{folder}: no licence row in SOURCES.md"
        assert folder in sources.split("## Provenance", 1)[1], f"{folder}: no provenance"
