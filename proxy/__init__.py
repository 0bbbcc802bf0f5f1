"""hubscope: a recording, spec-checking proxy for the Azure Notification Hubs REST API.

The modules directly in this package are the vocabulary every capability shares
(`model`, `exchange`, `operations`, `contract`, `sas`, `inflate`, `serve`, and the
`redact` package); they import nothing of hubscope's but each other. Packages import
downward only, in this order:
vocabulary → `decode` → `rules` → `store` → `recording`, `audit`, `tls` → `capture`,
`localhub`, `replay`, `io`, `demo` → `viewer` → `cli` (checked by `tests/test_layout.py`).
`compiled` is machinery, not vocabulary: imported first, it chooses between the compiled
build of the writer's modules and their sources.
"""

__version__ = "0.1.0"

from proxy import compiled as _compiled

_compiled.prefer_sources()
