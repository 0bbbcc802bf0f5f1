"""HTTPS in front of the proxy and the stand-in hub: hubscope's local CA, server
certificates, the TLS listener and its handshake log, and the trust hints users read.

May import only the floor (`proxy.serve`); the CLI starts it.
"""
