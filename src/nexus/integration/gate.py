"""The hook through which a district gate sees, and may refuse, each delivery.

A delivery that names its district (a OneRoster district org, a Star row's district columns,
Campus's District.number) is shown to the gate before anything of it is staged. One refusal
fails the whole run: no update happens until the district is verified. Deliveries that name
no district belong to the district of their bundle or connection, that is the run's tenant.
The integration layer only calls the gate; the matching itself lives in `nexus.identity`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from nexus.integration.connectors.base import DistrictClaim


@dataclass(frozen=True)
class GateVerdict:
    accepted: bool
    # How the district was recognised or why it was refused, naming what the file says.
    reason: str
    detail: dict = field(default_factory=dict)


DistrictGate = Callable[[sa.Connection, int, list[DistrictClaim]], GateVerdict]
