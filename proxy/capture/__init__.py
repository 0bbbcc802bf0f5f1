"""The running proxy: the app, the forwarding path, hop-by-hop headers, its settings.

May import the vocabulary, `proxy.recording` (where finished exchanges go) and `proxy.tls`;
only `proxy.cli` imports it.
"""
