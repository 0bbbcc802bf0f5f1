"""Secrets behind escapes: JSON string escapes, XML character references, escaped markup."""

from __future__ import annotations

from proxy import redact
from proxy.redact import escapes, shapes

SIG = "Zm9vYmFyYmF6c2VjcmV0c2lnbmF0dXJl"


def test_json_unicode_escapes() -> None:
    text = f'{{"a":"sr=x\\u0026sig\\u003d{SIG}\\u0026se=1","b":"caf\\u00e9"}}'
    out = escapes.json_strings(text, shapes.scrub)
    assert SIG not in out
    assert '"a":"sr=x&sig=[redacted]&se=1"' in out
    assert '"b":"caf\\u00e9"' in out, "a literal without a secret stays byte for byte"


def test_json_in_json_in_xml() -> None:
    inner = f'{{\\"token\\":\\"sig\\\\u003d{SIG}\\"}}'
    text = f'<entry><Body>{{"payload":"{inner}"}}</Body></entry>'
    assert SIG not in redact.text(text)


def test_xml_character_references() -> None:
    text = f"<x a='sig&#61;{SIG}'>sr=1&amp;sig&#x3D;{SIG}&amp;se=2</x>"
    out = escapes.xml_references(text, shapes.scrub)
    assert SIG not in out
    assert "sr=1&amp;sig=[redacted]&amp;se=2" in out


def test_markup_escaped_inside_markup() -> None:
    text = f'<content type="text">&lt;PrimaryKey&gt;{SIG}&lt;/PrimaryKey&gt;&#10;</content>'
    out = redact.text(text)
    assert SIG not in out
    assert "&lt;PrimaryKey&gt;[redacted]&lt;/PrimaryKey&gt;" in out


def test_text_without_escapes_is_the_same_object() -> None:
    text = '{"installationId": "i1"}'
    assert escapes.json_strings(text, shapes.scrub) is text
    assert escapes.xml_references(text, shapes.scrub) is text
