"""The `make run` demo: a local hub, the proxy in front of it, the viewer, and sample traffic.

May import only the vocabulary: it drives the proxy over HTTP like any client.
"""
