"""Captures in and out of hubscope's store: recordings of other tools read into sessions.

May import the store, `proxy.recording` and the vocabulary.
"""
