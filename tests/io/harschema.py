"""Validate HAR documents against the HAR 1.2 JSON Schema committed in `har_schema/`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT6

FOLDER = Path(__file__).resolve().parent / "har_schema"


def validator() -> Draft6Validator:
    resources = []
    for path in sorted(FOLDER.glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((path.name, Resource.from_contents(contents, DRAFT6)))
    registry: Registry[Any] = Registry().with_resources(resources)
    root = json.loads((FOLDER / "har.json").read_text(encoding="utf-8"))
    return Draft6Validator(root, registry=registry, format_checker=Draft6Validator.FORMAT_CHECKER)


def errors(document: object) -> list[str]:
    """Every schema violation, as `path: message`."""
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator().iter_errors(document)
    ]
