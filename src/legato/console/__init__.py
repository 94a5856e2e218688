"""The operator console: signed session cookies and the static page served at /console."""

from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
