"""Ed-Fi resources for Missouri (v3.6): courseTranscripts and studentAssessments with the
resources they reference, built from the canonical model by the rules of seeds 003 and 004,
validated against the ODS/API OpenAPI document, and sent idempotently to an ODS/API.

The public surface is below; rules live in `transcripts.py` and `assessments.py`, the
Missouri data in `missouri/`, the extension shape in `extension.py`.
"""

from __future__ import annotations

from nexus.edfi.build import BuildResult, parse_school_year, run_build
from nexus.edfi.errors import EdfiError
from nexus.edfi.send import SendResult, run_send
from nexus.edfi.status import status

__all__ = [
    "BuildResult",
    "EdfiError",
    "SendResult",
    "parse_school_year",
    "run_build",
    "run_send",
    "status",
]
