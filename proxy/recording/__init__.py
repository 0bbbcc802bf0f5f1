"""The ingest path: finished exchanges queued, decoded and written to the store off the
request path (a writer thread, or a writer process beside the event loop).

May import the store and below; the proxy, replay and import record through it.
"""
