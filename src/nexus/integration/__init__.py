"""The integration layer: connectors, ingestion runs and versioned source records.

Public surface: `ingest` runs one ingestion; `runs` reads them back; `snapshot` rebuilds an
entity as it stood at a run. Everything else is machinery.
"""

from __future__ import annotations

from nexus.integration.errors import IngestionError
from nexus.integration.ingest import ingest
from nexus.integration.runs import RunResult
from nexus.integration.snapshot import snapshot_records, write_snapshot

__all__ = ["IngestionError", "RunResult", "ingest", "snapshot_records", "write_snapshot"]
