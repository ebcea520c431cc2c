"""Indicator definitions, one YAML file per family (data, read by nexus.marts.definitions)."""
