"""The marts layer: grade-card indicators as versioned definitions, facts and aggregates."""
