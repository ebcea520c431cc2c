"""The validation layer: rules as metadata, exceptions with owners and status, readiness."""
