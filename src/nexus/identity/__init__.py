"""Identity: recognising districts (the district gate) and, later, people across sources.

Public surface: `district_gate` (pass it to `nexus.integration.ingest` as `gate=`), and the
district registry in `districts.py` (`register_district`, `add_alias`, `list_districts`).
"""

from __future__ import annotations

from nexus.identity.district_gate import district_gate
from nexus.identity.districts import add_alias, list_aliases, list_districts, register_district

__all__ = ["add_alias", "district_gate", "list_aliases", "list_districts", "register_district"]
