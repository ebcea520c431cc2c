"""SQLAlchemy Core tables of the `edfi` schema: built resources, send log, identity map.

Every table carries `tenant_id`, leading its primary and unique keys; surrogate keys come
from sequences. The migration that creates them is `migrations/versions/0008_edfi.py`.
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401

from nexus.store.tables import metadata  # noqa: F401
