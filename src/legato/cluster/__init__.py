"""Nodes: leases with epochs on the shared database (membership, routing and takeover build on them)."""
