"""The threaded stand-in hub and its recorder, for every test of `proxy.targets`."""

from tests.targets.recorder import hub_thread, recorder

__all__ = ["hub_thread", "recorder"]
