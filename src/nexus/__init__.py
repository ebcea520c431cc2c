"""Nexus: the Missouri MOSIS operational data platform."""

__version__ = "0.1.0"
