"""The hubscope viewer: traffic, devices and spec findings in the browser."""

from __future__ import annotations

from .app import make_app, start_viewer
from .state import ViewerSettings

__all__ = ["ViewerSettings", "make_app", "start_viewer"]
