"""Legato: a self-hosted programmable voice platform."""

__version__ = "0.1.0"
