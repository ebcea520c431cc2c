"""The generated district held in memory: every module's output, before any format is written."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nexus.synth.assessments import Scores, StarEvents
from nexus.synth.calendar import YearCalendar
from nexus.synth.courses import Schedule
from nexus.synth.discipline import Discipline
from nexus.synth.district import District
from nexus.synth.enrollment import Enrollments, StudentOutcome
from nexus.synth.people import Students
from nexus.synth.staff import Staff
from nexus.synth.transcripts import Transcripts


@dataclass
class SynthDistrict:
    seed: int
    district: District
    cal: YearCalendar
    students: Students
    enr: Enrollments
    outcome: StudentOutcome
    schedule: Schedule
    staff: Staff
    transcripts: Transcripts
    discipline: Discipline
    scores: Scores
    star: StarEvents

    @property
    def as_of(self) -> np.datetime64:
        """The moment the snapshot is taken: 5 pm on the last instructional day."""
        return self.cal.last_day.astype("datetime64[s]") + np.timedelta64(17 * 3600, "s")
