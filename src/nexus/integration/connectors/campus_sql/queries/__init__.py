"""The shipped Campus queries, one T-SQL file per entity (a package so wheels carry them)."""
