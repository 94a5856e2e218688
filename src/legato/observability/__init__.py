"""Metrics and logs: what an operator sees of a running Legato. Nothing here changes call handling."""
