"""The canonical layer: census and education rows mapped from versioned source records.

Public surface: `map_run` maps one ingestion run (`nexus map`); `reconcile` compares a run's
source records with the canonical rows they made; `catalog` shows and edits the mappings and
crosswalks. The mapping files themselves live in `mappings/`, one per source kind.
"""

from __future__ import annotations

from nexus.canonical.engine import MapResult, map_run
from nexus.canonical.errors import MappingError

__all__ = ["MapResult", "MappingError", "map_run"]
