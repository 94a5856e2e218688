"""Leg actions (`POST .../legs/{sid}/actions`): one module per action, each declaring an `ActionSpec`
(base.py), all listed in registry.py."""
