"""hubscope: a recording, spec-checking reverse proxy for the Azure Notification Hubs REST API."""

__version__ = "0.1.0"
