"""`make mutation` and `tests/hand_mutations.py` still point at code that exists.

Both run outside CI, so a renamed module (`proxy/redact.py` became a package and the
`redaction` target silently mutated nothing) or a rewritten line would go unnoticed; this
keeps them applicable.
"""

from __future__ import annotations

import pytest

from tests.hand_mutations import MUTATIONS, Mutation
from tests.mutation import REPO, TARGETS, Target


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_every_mutation_target_names_existing_files(target: Target) -> None:
    for path in (*target.modules, *target.tests):
        assert (REPO / path).exists(), path


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.ident)
def test_every_hand_mutation_applies_once(mutation: Mutation) -> None:
    source = (REPO / mutation.path).read_text(encoding="utf-8")
    assert source.count(mutation.old) == 1, mutation
    for path in mutation.tests:
        assert (REPO / path).exists(), path


def test_the_idents_are_unique() -> None:
    idents = [m.ident for m in MUTATIONS]
    assert len(idents) == len(set(idents))
