"""Jinja2 templates of the grade card (nexus.marts.report)."""
