"""The connection keeper: a per-user background process that holds SSH connections
between runs (opt-in), so a later exec/run/health skips the handshakes.

client.py (KeptConnection, the Connection a run uses) talks to server.py (the
keeper) over a unix socket (sockets.py) with a length-prefixed protocol
(protocol.py); identity.py says when two runs may share a connection.
"""
