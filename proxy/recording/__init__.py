"""The ingest path: the proxy's capture journal on disk, the writer process that follows
it into the store, and the in-process recorder of replay and import.

May import the store and below; the proxy, replay and import record through it.
"""
