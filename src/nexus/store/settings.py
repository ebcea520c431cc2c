"""Settings read from the environment: where Nexus keeps its files and which database it uses."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Where Nexus lives: `NEXUS_HOME` (files, artifacts, the embedded DuckDB) and the database."""

    home: Path
    database_url: str
    secret_key: str | None = None

    @property
    def artifacts_dir(self) -> Path:
        return self.home / "artifacts"

    @classmethod
    def from_env(cls, environ: os._Environ[str] | dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get("NEXUS_HOME") or "./.nexus").expanduser().resolve()
        url = env.get("NEXUS_DATABASE_URL") or f"duckdb:///{home / 'nexus.duckdb'}"
        return cls(home=home, database_url=url, secret_key=env.get("NEXUS_SECRET_KEY") or None)

    def redacted_url(self) -> str:
        """The database URL with any password masked, safe to print."""
        from sqlalchemy.engine import make_url

        return make_url(self.database_url).render_as_string(hide_password=True)
