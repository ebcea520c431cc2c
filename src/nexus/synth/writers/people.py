"""Identity columns of every person as the Campus tables hold them after defects.

Vendor files read names, birth dates, e-mails and MOSIS IDs from here rather than from the
generator's own arrays, so a SIS data problem (a missing MOSIS ID, an invalid gender) shows
through in every vendor copy, as it would in a real district.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from nexus.synth.writers.csv_files import flat
from nexus.synth.writers.workspace import Workspace

_IDENTITY_SQL = """
    SELECT p.personID, p.stateID, p.studentNumber, p.staffNumber, p.staffStateID, i.lastName,
           i.firstName, i.middleName, i.gender, i.birthdate, i.raceEthnicity,
           i.hispanicEthnicity, c.email
    FROM Person p JOIN "Identity" i ON i.identityID = p.currentIdentityID
    LEFT JOIN Contact c ON c.personID = p.personID ORDER BY p.personID"""


class People:
    """Identity columns of every person after defects (Arrow), indexable by personID."""

    def __init__(self, ws: Workspace) -> None:
        self.table = ws.query(_IDENTITY_SQL)
        self.ids = self.table.column("personID").to_numpy()

    def rows(self, person_id: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.ids, person_id)

    def col(self, name: str, person_id: np.ndarray) -> pa.Array:
        return flat(self.table.column(name).take(pa.array(self.rows(person_id))))

    def values(self, name: str, person_id: np.ndarray) -> np.ndarray:
        return self.col(name, person_id).to_numpy(zero_copy_only=False)
