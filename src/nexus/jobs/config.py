"""A tenant's daily pipeline configuration: what `nexus daily` ingests, gates, validates,
refreshes and generates, and whom it notifies.

The configuration is stored as one JSON document per tenant (`platform.pipeline_configs`);
a tenant without one gets the defaults below. Everything has a default, so `nexus daily`
works on a tenant that was never configured:

- connections: every ingest connection of the tenant (`edfi` connections are destinations,
  never ingested);
- the map gate: a run that failed, or whose row errors exceed `max_error_rate` (5%) of the
  rows it read, is not mapped (its map step is `blocked`);
- school year: the current one by the run's date (July 1 starts a new one);
- cycles: those open on the run's date (`open_cycles`); an empty list validates none;
- marts: refreshed; extracts: none; output folder `$NEXUS_HOME/mosis/<tenant>`;
- notifications: none. Secrets (the SMTP password) only by reference, `env:VAR` or
  `file:/path` (`nexus.store.secrets.reference`), never stored as text.

The module owns the document's shape and its checks; it does not run anything.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from nexus.errors import NexusError
from nexus.integration.sources import list_connections
from nexus.mosis.cycles import CYCLES, CycleError, cycle_dates, parse_collection
from nexus.mosis.layouts import layout_names, parse_school_year
from nexus.store.settings import Settings
from nexus.store.workspace_tables import pipeline_configs

# A cycle is open from this many days before its count date (the data being readied) to this
# many days after it (DESE's submission and correction window).
OPEN_BEFORE_DAYS = 45
OPEN_AFTER_DAYS = 45
# Connection kinds that are destinations, not sources.
NOT_INGESTED = ("edfi",)


class JobsError(NexusError):
    """A problem of the daily pipeline, its configuration or its schedules."""


class PipelineConfigError(JobsError):
    """A pipeline configuration that cannot be used, with the field at fault."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _secret_reference(value: str | None) -> str | None:
    if value is None:
        return None
    kind, _, where = value.partition(":")
    if kind not in ("env", "file") or not where:
        raise ValueError(
            "give the secret by reference: env:VARIABLE or file:/path (never the secret itself)"
        )
    return value


class SmtpConfig(_Model):
    host: str = Field(min_length=1)
    port: int = Field(default=25, ge=1, le=65535)
    sender: str = Field(min_length=3)
    to: list[str] = Field(min_length=1)
    username: str | None = None
    # `env:VAR` or `file:/path`, resolved when a message is sent.
    password_ref: str | None = None
    starttls: bool = False

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        if "@" not in value:
            raise ValueError(f"{value!r} is not an email address")
        return value

    @field_validator("to")
    @classmethod
    def _to(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address:
                raise ValueError(f"{address!r} is not an email address")
        return value

    @field_validator("password_ref")
    @classmethod
    def _password(cls, value: str | None) -> str | None:
        return _secret_reference(value)


class NotifyConfig(_Model):
    webhook_url: str | None = None
    smtp: SmtpConfig | None = None
    # Prefixed to the run's link path in notifications, e.g. https://nexus.district.org
    link_base: str | None = None

    @field_validator("webhook_url", "link_base")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value


class ExtractSpec(_Model):
    cycle: str
    layout: str
    school: str | None = None

    @field_validator("cycle")
    @classmethod
    def _cycle(cls, value: str) -> str:
        try:
            return parse_collection(value)
        except CycleError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("layout")
    @classmethod
    def _layout(cls, value: str) -> str:
        known = layout_names()
        if value not in known:
            raise ValueError(f"unknown layout {value!r}: one of {', '.join(known)}")
        return value

    @field_validator("school")
    @classmethod
    def _school(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{4}", value):
            raise ValueError(f"school code {value!r} must be four digits")
        return value

    @property
    def target(self) -> str:
        return f"{self.cycle}/{self.layout}" + (f"/{self.school}" if self.school else "")


class PipelineConfig(_Model):
    # None: every ingest connection of the tenant.
    connections: list[str] | None = None
    max_error_rate: float = Field(default=0.05, ge=0.0, le=1.0)
    # DESE's CurrentSchoolYear (the ending year); None: the current one by the run's date.
    school_year: int | None = None
    # None: the cycles open on the run's date; []: validate nothing.
    cycles: list[str] | None = None
    marts: bool = True
    extracts: list[ExtractSpec] = Field(default_factory=list)
    # None: $NEXUS_HOME/mosis/<tenant>
    output_dir: str | None = None
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    # A run still `running` after this long is taken for dead (its process crashed).
    stale_after_minutes: int = Field(default=360, ge=1)

    @field_validator("school_year", mode="before")
    @classmethod
    def _year(cls, value: Any) -> int | None:
        if value is None:
            return None
        try:
            return parse_school_year(value)
        except NexusError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("cycles")
    @classmethod
    def _cycles(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        try:
            return [parse_collection(c) for c in value]
        except CycleError as exc:
            raise ValueError(str(exc)) from None

    def as_dict(self) -> dict:
        return self.model_dump(mode="json")

    def output_folder(self, settings: Settings, tenant_code: str) -> Path:
        if self.output_dir:
            return Path(self.output_dir).expanduser()
        return settings.home / "mosis" / tenant_code


def parse_config(document: dict | PipelineConfig) -> PipelineConfig:
    """A checked configuration, or a `PipelineConfigError` naming each field at fault."""
    if isinstance(document, PipelineConfig):
        document = document.as_dict()
    try:
        return PipelineConfig.model_validate(document)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"]) or "config"
            message = e["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {message}")
        raise PipelineConfigError("pipeline config: " + "; ".join(problems)) from None


def current_school_year(on: date) -> int:
    """DESE's CurrentSchoolYear on a date: July 1 starts the next one."""
    return on.year + 1 if on.month >= 7 else on.year


def open_cycles(school_year: int, on: date) -> list[str]:
    """The year's cycles open on a date: those whose count date is at most `OPEN_BEFORE_DAYS`
    ahead of it or at most `OPEN_AFTER_DAYS` behind it. When none is (early July), the next
    cycle to come, so a daily run always checks something."""
    found = []
    upcoming: tuple[date, str] | None = None
    for cycle in CYCLES:
        count_date = cycle_dates(cycle, school_year).count_date
        if (
            count_date - timedelta(days=OPEN_BEFORE_DAYS)
            <= on
            <= count_date + timedelta(days=OPEN_AFTER_DAYS)
        ):
            found.append(cycle)
        elif count_date > on and (upcoming is None or count_date < upcoming[0]):
            upcoming = (count_date, cycle)
    if not found and upcoming is not None:
        found.append(upcoming[1])
    return found


def ingest_connections(conn: sa.Connection, tenant_id: int) -> list[str]:
    """The tenant's connections a daily run ingests by default."""
    return [c.name for c in list_connections(conn, tenant_id) if c.kind not in NOT_INGESTED]


def get_config(conn: sa.Connection, tenant_id: int) -> PipelineConfig:
    """The tenant's stored configuration, or the defaults."""
    row = conn.execute(
        sa.select(pipeline_configs.c.config).where(pipeline_configs.c.tenant_id == tenant_id)
    ).first()
    return parse_config(row[0] if row is not None else {})


def get_config_record(conn: sa.Connection, tenant_id: int) -> dict:
    """The configuration with who changed it last and when (None: never configured)."""
    row = (
        conn.execute(sa.select(pipeline_configs).where(pipeline_configs.c.tenant_id == tenant_id))
        .mappings()
        .first()
    )
    return {
        "config": parse_config(row["config"] if row else {}).as_dict(),
        "updated_at": row["updated_at"].isoformat() if row else None,
        "updated_by": row["updated_by"] if row else None,
    }


def set_config(
    conn: sa.Connection, tenant_id: int, config: PipelineConfig | dict, user: str
) -> PipelineConfig:
    """Check and store a tenant's configuration (replacing the previous one)."""
    checked = parse_config(config)
    if checked.connections is not None:
        kinds = {c.name: c.kind for c in list_connections(conn, tenant_id)}
        for name in checked.connections:
            if name not in kinds:
                known = ", ".join(n for n, k in kinds.items() if k not in NOT_INGESTED) or "none"
                raise PipelineConfigError(
                    f"pipeline config: connections: no connection {name!r} for this tenant "
                    f"(ingest connections: {known})"
                )
            if kinds[name] in NOT_INGESTED:
                raise PipelineConfigError(
                    f"pipeline config: connections: {name!r} is an {kinds[name]} connection, "
                    f"a destination: it is not ingested"
                )
    values = {
        "config": checked.as_dict(),
        "updated_at": datetime.now(UTC),
        "updated_by": user,
    }
    done = conn.execute(
        pipeline_configs.update().where(pipeline_configs.c.tenant_id == tenant_id).values(**values)
    )
    if done.rowcount == 0:
        conn.execute(pipeline_configs.insert().values(tenant_id=tenant_id, **values))
    return checked
