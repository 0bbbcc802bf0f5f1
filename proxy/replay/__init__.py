"""`hubscope replay`: re-send a recorded session to any hub, re-signed, and compare by meaning."""
