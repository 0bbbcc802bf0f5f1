"""`hubscope replay`: re-send a recorded session to any hub, re-signed, and compare by meaning.

May import `proxy.recording`, the store, the decoders and the vocabulary.
"""
