"""PostgreSQL URLs: recognising one, and showing it (or an error about it) without its password."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

SCHEMES = ("postgresql://", "postgres://")


def is_url(location: object) -> bool:
    """Whether a `--db` value names a PostgreSQL database rather than an SQLite file."""
    return isinstance(location, str) and location.lower().startswith(SCHEMES)


def password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def display(url: str) -> str:
    """The URL as it may be printed: the password (if any) replaced by `***`."""
    try:
        parts = urlsplit(url)
        secret = parts.password
    except ValueError:
        return "postgresql://(unparsable URL)"
    if secret is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def scrub(text: str, url: str) -> str:
    """`text` (an error message, a log line) with the URL's password taken out wherever it is."""
    secret = password(url)
    text = text.replace(url, display(url))
    for form in {secret, unquote(secret)} if secret else ():
        text = text.replace(form, "***")
    return text
