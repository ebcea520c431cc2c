"""The store: settings, engine, tables, migrations, bulk load, tenants and secrets.

Every other layer reaches the database through this package; the few differences between
DuckDB (embedded default) and PostgreSQL (production) are declared in `backend.py`.
"""

from __future__ import annotations

from nexus.store.backend import Backend
from nexus.store.bulk import bulk_load
from nexus.store.engine import Store, open_store
from nexus.store.errors import StoreError
from nexus.store.settings import Settings

__all__ = ["Backend", "Settings", "Store", "StoreError", "bulk_load", "open_store"]
