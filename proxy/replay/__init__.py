"""`hubscope replay` and `resend`: re-send a recorded session (or one call) to any hub,
re-signed, and compare by meaning.

May import `proxy.recording`, the store, the decoders and the vocabulary.
"""
