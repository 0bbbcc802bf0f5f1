"""Secrets in plain text: SAS sig, SharedAccessKey, bearer tokens, JWTs, as written or
percent-encoded once or twice; credential headers keep only their scheme."""

from __future__ import annotations

import pytest

from proxy.redact import shapes

SIG = "Zm9vYmFyYmF6c2VjcmV0c2lnbmF0dXJl"
TOKEN = f"SharedAccessSignature sr=https%3A%2F%2Fns%2Fhub&sig={SIG}%3D&se=1900000000&skn=Full"


@pytest.mark.parametrize(
    "text",
    [
        TOKEN,
        f"https://ns/hub/x?api-version=2020-06&sig={SIG}",
        # a token carried inside a URL (a Location header, a redirect)
        "https://ns/hub/r/1?t=SharedAccessSignature%20sr%3Dhttps%253A%252F%252Fns"
        f"%26sig%3D{SIG}%253D%26se%3D1",
        # …and inside a URL inside a URL
        f"https://a/?next=https%3A%2F%2Fns%2F%3Fsr%3Dx%2526sig%253D{SIG}%2526se%253D1",
        f"Endpoint=sb://ns/;SharedAccessKeyName=Full;SharedAccessKey={SIG}=",
        f"Endpoint%3Dsb%3A%2F%2Fns%2F%3BSharedAccessKey%3D{SIG}%3D%3BEntityPath%3Dh",
        f"Authorization: Bearer {SIG}.abc-def",
        f"token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.{SIG}",
    ],
)
def test_each_shape_loses_its_secret(text: str) -> None:
    out = shapes.scrub(text)
    assert SIG not in out, out
    assert shapes.MARKER in out


def test_readable_fields_stay() -> None:
    out = shapes.scrub(TOKEN)
    assert out == (
        "SharedAccessSignature sr=https%3A%2F%2Fns%2Fhub&sig=[redacted]&se=1900000000&skn=Full"
    )
    encoded = shapes.scrub(f"x?t=sr%3Dhttps%253A%252F%252Fns%26sig%3D{SIG}%26se%3D17%26skn%3DF")
    assert encoded == "x?t=sr%3Dhttps%253A%252F%252Fns%26sig%3D[redacted]%26se%3D17%26skn%3DF"
    cs = shapes.scrub(f"Endpoint=sb://ns/;SharedAccessKeyName=Full;SharedAccessKey={SIG}=")
    assert cs == "Endpoint=sb://ns/;SharedAccessKeyName=Full;SharedAccessKey=[redacted]"


@pytest.mark.parametrize(
    "text",
    [
        "<entry><Tags>signal,keyboard,designer</Tags></entry>",
        "https://db5.notify.windows.com/?token=AwYAAAB%2bXYZ",
        "/hub/registrations?continuationtoken=MzEobik7Mg%3D%3D",
        'WWW-Authenticate: Bearer realm="hubscope"',
        "SharedAccessKeyName=DefaultFullSharedAccessSignature",
        "sig=[redacted] and Bearer [redacted]",
    ],
)
def test_what_is_not_a_secret_is_left_alone(text: str) -> None:
    assert shapes.scrub(text) == text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"Bearer {SIG}", "Bearer [redacted]"),
        ("Basic dXNlcjpwYXNz", "Basic [redacted]"),
        ("abc", "[redacted]"),
        (TOKEN, shapes.scrub(TOKEN)),
        ("Sanitized", "Sanitized"),
    ],
)
def test_a_credential_header_keeps_only_its_scheme(value: str, expected: str) -> None:
    assert shapes.credential(value) == expected
