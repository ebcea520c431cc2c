"""Connectors, one module per source kind, behind the interface in `base.py`."""

from __future__ import annotations

from nexus.integration.connectors.base import Connector, ConnectorContext, Delivery
from nexus.integration.errors import IngestionError


def connector_for(kind: str) -> Connector:
    """The connector for a source kind."""
    if kind == "csv":
        from nexus.integration.connectors.delimited import DelimitedConnector

        return DelimitedConnector()
    if kind == "campus-extract":
        from nexus.integration.connectors.campus_extract import CampusExtractConnector

        return CampusExtractConnector()
    if kind == "campus-sql":
        from nexus.integration.connectors.campus_sql import CampusSqlConnector

        return CampusSqlConnector()
    if kind == "oneroster":
        from nexus.integration.connectors.oneroster import OneRosterConnector

        return OneRosterConnector()
    if kind == "powerschool":
        from nexus.integration.connectors.powerschool import PowerSchoolConnector

        return PowerSchoolConnector()
    if kind == "star":
        from nexus.integration.connectors.star import StarConnector

        return StarConnector()
    if kind == "classlink":
        from nexus.integration.connectors.classlink import ClassLinkConnector

        return ClassLinkConnector()
    raise IngestionError(
        f"unknown source kind {kind!r}: use csv, campus-extract, campus-sql, oneroster, "
        "powerschool, star or classlink"
    )


__all__ = ["Connector", "ConnectorContext", "Delivery", "connector_for"]
