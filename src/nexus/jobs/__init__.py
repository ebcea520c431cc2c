"""The daily pipeline and its schedules (issue 9): `run_daily` runs a tenant's day (ingest →
map, gated → validate the open cycles → refresh the marts → generate the configured MOSIS
extracts → notify), recorded step by step in `platform.pipeline_runs`; `config` holds what a
tenant's day does; `schedule` keeps cron schedules and fires them inside `nexus serve`.

The web app and the CLI call these names and nothing deeper."""

from __future__ import annotations

from nexus.jobs.config import (
    JobsError,
    PipelineConfig,
    PipelineConfigError,
    get_config,
    get_config_record,
    open_cycles,
    set_config,
)
from nexus.jobs.pipeline import (
    PipelineBusy,
    PipelineResult,
    get_pipeline_run,
    list_pipeline_runs,
    run_daily,
)
from nexus.jobs.schedule import (
    ScheduleError,
    Scheduler,
    add_schedule,
    list_schedules,
    remove_schedule,
    set_enabled,
)

__all__ = [
    "JobsError",
    "PipelineBusy",
    "PipelineConfig",
    "PipelineConfigError",
    "PipelineResult",
    "ScheduleError",
    "Scheduler",
    "add_schedule",
    "get_config",
    "get_config_record",
    "get_pipeline_run",
    "list_pipeline_runs",
    "list_schedules",
    "open_cycles",
    "remove_schedule",
    "run_daily",
    "set_config",
    "set_enabled",
]
