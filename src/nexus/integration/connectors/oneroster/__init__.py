"""OneRoster 1.1 and 1.2: CSV bundles (folder or zip with `manifest.csv`) and 1.2 REST.

SOURCE is a folder, a .zip, or an `http(s)://` base URL (the connection's URL when omitted);
entities are the CSV file names without `.csv` (`users`, `enrollments`, …) on both routes.
See `docs/oneroster.md` for what is accepted, manifest semantics and Campus conventions.
"""

from __future__ import annotations

from collections.abc import Iterator

from nexus.integration.connectors.base import ConnectorContext, Delivery
from nexus.integration.connectors.oneroster.bundle import bundle_deliveries
from nexus.integration.connectors.oneroster.rest import rest_deliveries


class OneRosterConnector:
    kind = "oneroster"

    def deliveries(self, source: str, context: ConnectorContext) -> Iterator[Delivery]:
        if source.lower().startswith(("http://", "https://")):
            return rest_deliveries(source, context)
        return bundle_deliveries(source, context)


__all__ = ["OneRosterConnector"]
