"""OneRoster connector tests: CSV bundles, zips, manifests, and REST against a local fake."""
