"""The hubscope viewer: traffic, devices and spec findings in the browser.

May import the vocabulary, `proxy.decode`, `proxy.rules`, `proxy.store` and `proxy.audit`;
only `proxy.cli` imports the viewer.
"""

from __future__ import annotations

from viewer.app import make_app, start_viewer
from viewer.state import ViewerSettings

__all__ = ["ViewerSettings", "make_app", "start_viewer"]
