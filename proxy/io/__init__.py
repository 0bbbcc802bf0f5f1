"""Captures in and out of hubscope's store: HAR and JSON Lines exports (optionally masked),
and HAR, JSON Lines and test-proxy recordings read into sessions.

May import the store, `proxy.recording`, the rules, the decoders and the vocabulary.
"""
