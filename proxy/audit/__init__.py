"""The audit: every recorded exchange judged by the rules, then reported.

May import the store, the decoders, the rules and the vocabulary; the viewer and the CLI
use it.
"""

from proxy.audit.printed import JsonStream
from proxy.audit.report import (
    Group,
    groups,
    render,
    render_json,
    render_markdown,
    render_text,
)
from proxy.audit.run import Audit, FailOn, Format, count, run

__all__ = [
    "Audit",
    "FailOn",
    "Format",
    "Group",
    "JsonStream",
    "count",
    "groups",
    "render",
    "render_json",
    "render_markdown",
    "render_text",
    "run",
]
