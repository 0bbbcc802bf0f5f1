"""The `make run` demo: a local hub, the proxy in front of it, the viewer, and sample traffic."""
