"""The operational marts: SIS quality per ingestion run (`mart.sis_quality_runs`), MOSIS
extract runs (`mart.mosis_extract_summary`, `mart.mosis_extract_problems`), readiness from the
newest run per year, cycle, layout and school (`mart.mosis_readiness_latest`) and the
exception trend from the validation layer's runs (`mart.mosis_exception_trend`).

Built set-based from `integration`, `reporting.mosis_extract_runs|rows` and, when the
validation layer's tables are present, `reporting.validation_runs`,
`reporting.mosis_validation_results` and `reporting.validation_exceptions`. Extract problems
are JSON lists per row, read in Python only for runs not yet summarised.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import sqlalchemy as sa

from nexus.marts.refresh import tenant_id_of
from nexus.store import Store
from nexus.store.mart_tables import mosis_extract_problems

PARAMS_SQL = "tenant_id = :t"


def _has_tables(conn: sa.Connection, schema: str, names: tuple[str, ...]) -> bool:
    inspector = sa.inspect(conn)
    return all(inspector.has_table(n, schema=schema) for n in names)


def refresh_operational(store: Store, tenant_code: str) -> dict:
    """Rebuild the operational marts of a tenant; returns row counts (and what is waiting)."""
    now = datetime.now(UTC)
    found: dict = {}
    with store.engine.begin() as conn:
        t = tenant_id_of(conn, tenant_code)
        p = {"t": t, "now": now}
        for table in (
            "sis_quality_runs",
            "mosis_extract_summary",
            "mosis_readiness_latest",
            "mosis_exception_trend",
        ):
            conn.execute(sa.text(f"DELETE FROM mart.{table} WHERE tenant_id = :t"), p)
        found["sis_quality_runs"] = conn.execute(
            sa.text(
                """
                INSERT INTO mart.sis_quality_runs (tenant_id, run_id, kind, status, started_at,
                  source_record_errors, mapping_errors, refreshed_at)
                SELECT r.tenant_id, r.run_id, r.kind, r.status, r.started_at,
                       (SELECT count(*) FROM integration.source_record_errors e
                        WHERE e.tenant_id = r.tenant_id AND e.run_id = r.run_id),
                       (SELECT count(*) FROM integration.mapping_errors m
                        JOIN integration.mapping_runs mr
                          ON mr.tenant_id = m.tenant_id AND mr.map_run_id = m.map_run_id
                        WHERE mr.tenant_id = r.tenant_id AND mr.ingestion_run_id = r.run_id),
                       :now
                FROM integration.ingestion_runs r WHERE r.tenant_id = :t
                """
            ),
            p,
        ).rowcount
        found["mosis_extract_summary"] = conn.execute(
            sa.text(
                """
                INSERT INTO mart.mosis_extract_summary (tenant_id, extract_run_id, school_year,
                  cycle, layout, school_code, run_date, status, rows_written, rows_blocked,
                  warnings, refreshed_at)
                SELECT r.tenant_id, r.extract_run_id, r.school_year, r.cycle, r.layout,
                       coalesce(r.school_code, ''), CAST(r.started_at AS DATE), r.status,
                       r.rows, r.blocking, r.warnings, :now
                FROM reporting.mosis_extract_runs r WHERE r.tenant_id = :t
                """
            ),
            p,
        ).rowcount
        found["mosis_readiness_latest"] = conn.execute(
            sa.text(
                """
                INSERT INTO mart.mosis_readiness_latest (tenant_id, school_year, cycle, layout,
                  school_code, extract_run_id, run_date, rows_written, rows_blocked,
                  ready_percent, ready)
                SELECT s.tenant_id, s.school_year, s.cycle, s.layout, s.school_code,
                       s.extract_run_id, s.run_date, s.rows_written, s.rows_blocked,
                       CASE WHEN s.rows_written + s.rows_blocked = 0 THEN NULL
                            ELSE 100.0 * s.rows_written / (s.rows_written + s.rows_blocked)
                       END,
                       s.rows_blocked = 0 AND s.status = 'succeeded'
                FROM (SELECT m.*, row_number() OVER (
                        PARTITION BY m.school_year, m.cycle, m.layout, m.school_code
                        ORDER BY m.extract_run_id DESC) AS newest
                      FROM mart.mosis_extract_summary m WHERE m.tenant_id = :t) s
                WHERE s.newest = 1
                """
            ),
            p,
        ).rowcount
        found["mosis_extract_problems"] = _problems(conn, t)
        if _has_tables(
            conn,
            "reporting",
            ("validation_runs", "mosis_validation_results", "validation_exceptions"),
        ):
            found["mosis_exception_trend"] = conn.execute(
                sa.text(
                    """
                    INSERT INTO mart.mosis_exception_trend (tenant_id, validation_run_id,
                      run_date, school_year, cycle, layout, rule_id, field, school_code, owner,
                      severity, exceptions)
                    SELECT v.tenant_id, v.validation_run_id, CAST(v.started_at AS DATE),
                           v.school_year, v.cycle, r.layout, r.rule_id, x.field,
                           r.school_code, x.owner, r.severity, count(*)
                    FROM reporting.mosis_validation_results r
                    JOIN reporting.validation_runs v
                      ON v.tenant_id = r.tenant_id AND v.validation_run_id = r.validation_run_id
                    JOIN reporting.validation_exceptions x
                      ON x.tenant_id = r.tenant_id AND x.exception_id = r.exception_id
                    WHERE r.tenant_id = :t
                    GROUP BY v.tenant_id, v.validation_run_id, CAST(v.started_at AS DATE),
                             v.school_year, v.cycle, r.layout, r.rule_id, x.field,
                             r.school_code, x.owner, r.severity
                    """
                ),
                p,
            ).rowcount
        else:
            found["mosis_exception_trend"] = "waiting for the validation layer's tables"
    return found


def _problems(conn: sa.Connection, tenant_id: int) -> int:
    """Problem counts per extract run and field, for runs not summarised yet."""
    done = {
        r[0]
        for r in conn.execute(
            sa.select(mosis_extract_problems.c.extract_run_id)
            .where(mosis_extract_problems.c.tenant_id == tenant_id)
            .distinct()
        )
    }
    runs = [
        r[0]
        for r in conn.execute(
            sa.text("SELECT extract_run_id FROM reporting.mosis_extract_runs WHERE tenant_id = :t"),
            {"t": tenant_id},
        )
        if r[0] not in done
    ]
    written = 0
    for run_id in runs:
        counts: Counter = Counter()
        rows = conn.execute(
            sa.text(
                "SELECT problems FROM reporting.mosis_extract_rows WHERE tenant_id = :t "
                "AND extract_run_id = :r AND problems IS NOT NULL"
            ),
            {"t": tenant_id, "r": run_id},
        )
        for (problems,) in rows:
            items = json.loads(problems) if isinstance(problems, str) else problems
            for item in items or []:
                field = str(item.get("field") or item.get("column") or "-")[:200]
                severity = item.get("severity") or "problem"
                message = item.get("message") or item.get("rule") or "-"
                problem = f"{severity}: {message}"[:200]
                counts[(field, problem)] += 1
        if counts:
            conn.execute(
                mosis_extract_problems.insert(),
                [
                    {
                        "tenant_id": tenant_id,
                        "extract_run_id": run_id,
                        "field": f,
                        "problem": pr,
                        "rows": n,
                    }
                    for (f, pr), n in sorted(counts.items())
                ],
            )
            written += len(counts)
    return written
