"""The validation layer: rules as metadata, exceptions with owners and status, readiness.

The public surface; the work area, the evaluator and the catalog's loading stay inside:
- `validate(store, tenant, school_year, cycle, layouts=None)` runs one validation;
- `readiness(...)`, `top_by_owner(...)` read its outcome;
- `list_exceptions`, `show_exception`, `assign`, `suppress`, `resolve`, `export`, `trend`
  work the exceptions;
- `compare_student`, `import_corrections`: the four values of a record, DESE's corrections.
"""

from nexus.validation.compare import compare_student, import_corrections
from nexus.validation.engine import ValidationError, ValidationResult, validate
from nexus.validation.exceptions import (
    assign,
    export,
    list_exceptions,
    resolve,
    show_exception,
    suppress,
    trend,
)
from nexus.validation.readiness import readiness, top_by_owner

__all__ = [
    "ValidationError",
    "ValidationResult",
    "assign",
    "compare_student",
    "export",
    "import_corrections",
    "list_exceptions",
    "readiness",
    "resolve",
    "show_exception",
    "suppress",
    "top_by_owner",
    "trend",
    "validate",
]
