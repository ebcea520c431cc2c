"""Compiling mapping rules into DuckDB SQL for the mapping work area.

A rule becomes one SQL expression over the raw source values (columns `s0`, `s1`, … holding
the payload's fields as text) plus the checks that turn a bad value into a mapping error:
`bad_value` (a date or number that does not parse), `unknown_code` (a code no crosswalk
knows), `broken_reference` (a reference to a canonical row that does not exist or a person not
yet linked). Crosswalks and references are scalar lookups into small tables the engine loads
into the work area (`nexus_crosswalks`, `ref_<n>`); DuckDB turns them into joins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nexus.canonical.spec import Ref, Rule, Step

BOOL_TRUE = ("1", "TRUE", "T", "Y", "YES")
BOOL_FALSE = ("0", "FALSE", "F", "N", "NO")


def sql_literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class Check:
    condition: str  # true when the row is in error
    rule: str
    value: str  # the offending value, as text
    message: str


@dataclass
class Compiler:
    """Compiles the rules of one entity map; `columns` maps source fields to `sN` columns."""

    date_format: str | None
    columns: dict[str, str] = field(default_factory=dict)
    refs: dict[Ref, str] = field(default_factory=dict)

    def column(self, source_field: str) -> str:
        if source_field not in self.columns:
            self.columns[source_field] = f"s{len(self.columns)}"
        return self.columns[source_field]

    def ref_table(self, ref: Ref) -> str:
        if ref not in self.refs:
            self.refs[ref] = f"ref_{len(self.refs)}"
        return self.refs[ref]

    def key_of(self, fields: tuple[str, ...]) -> str:
        parts = [f"nullif(trim({self.column(f)}), '')" for f in fields]
        if len(parts) == 1:
            return parts[0]
        # A composite key is null when any part is.
        return f"CASE WHEN {' OR '.join(p + ' IS NULL' for p in parts)} THEN NULL ELSE " + (
            "concat_ws('|', " + ", ".join(parts) + ") END"
        )

    def compile(self, rule: Rule, name: str) -> tuple[str, list[Check]]:
        checks: list[Check] = []
        if rule.literal is not None:
            expr = sql_literal(rule.literal) if rule.literal != "" else "NULL::VARCHAR"
        elif rule.ref is not None:
            key = self.key_of(rule.ref.fields)
            table = self.ref_table(rule.ref)
            expr = f"(SELECT r.value FROM {table} r WHERE r.source_key = {key})"
            what = f"person ({rule.ref.person_kind})" if rule.ref.person_kind else rule.ref.target
            checks.append(
                Check(
                    f"({key}) IS NOT NULL AND {expr} IS NULL",
                    "broken_reference",
                    key,
                    f"no linked {what} with this key"
                    if rule.ref.person_kind
                    else f"no {what} row with this key",
                )
            )
        else:
            expr = self.column(rule.source or "")
        for step in rule.steps:
            expr, check = self._step(step, expr, name)
            if check:
                checks.append(check)
        return expr, checks

    def _step(self, step: Step, x: str, name: str) -> tuple[str, Check | None]:
        n, a = step.name, step.args
        if n == "trim":
            return f"nullif(trim(CAST({x} AS VARCHAR)), '')", None
        if n == "upper":
            return f"upper({x})", None
        if n == "lower":
            return f"lower({x})", None
        if n == "strip_zeros":
            return f"CASE WHEN regexp_full_match({x}, '0+') THEN '0' ELSE ltrim({x}, '0') END", None
        if n == "present":
            return f"(nullif(trim(CAST({x} AS VARCHAR)), '') IS NOT NULL)", None
        if n == "left":
            return f"left({x}, {int(a[0])})", None
        if n == "nullif":
            return f"nullif({x}, {sql_literal(a[0])})", None
        if n == "default":
            return f"coalesce({x}, {sql_literal(a[0])})", None
        if n == "equals":
            return f"(CAST({x} AS VARCHAR) = {sql_literal(a[0])})", None
        if n == "in":
            return f"(CAST({x} AS VARCHAR) IN ({', '.join(sql_literal(v) for v in a)}))", None
        if n == "date":
            fmt = a[0] if a else self.date_format
            if fmt and fmt != "iso":
                out = f"CAST(try_strptime(CAST({x} AS VARCHAR), {sql_literal(fmt)}) AS DATE)"
            else:
                out = f"TRY_CAST(left(CAST({x} AS VARCHAR), 10) AS DATE)"
            return out, self._parse_check(x, out, f"not a date ({fmt or 'YYYY-MM-DD'})")
        if n == "int":
            out = f"CAST(TRY_CAST({x} AS DECIMAL(38, 6)) AS BIGINT)"
            return out, self._parse_check(x, out, "not a whole number")
        if n == "decimal":
            out = f"TRY_CAST({x} AS DECIMAL(18, 4))"
            return out, self._parse_check(x, out, "not a number")
        if n == "bool":
            up = f"upper(trim(CAST({x} AS VARCHAR)))"
            t = ", ".join(sql_literal(v) for v in BOOL_TRUE)
            f = ", ".join(sql_literal(v) for v in BOOL_FALSE)
            out = f"CASE WHEN {up} IN ({t}) THEN true WHEN {up} IN ({f}) THEN false END"
            return out, self._parse_check(x, out, "not a yes/no value")
        if n in ("crosswalk", "crosswalk?"):
            cw = sql_literal(a[0])
            out = (
                "(SELECT c.canonical_code FROM nexus_crosswalks c "
                f"WHERE c.crosswalk = {cw} AND c.source_code = CAST({x} AS VARCHAR))"
            )
            if n == "crosswalk?":
                return out, None
            return out, Check(
                f"{x} IS NOT NULL AND {out} IS NULL",
                "unknown_code",
                f"CAST({x} AS VARCHAR)",
                f"code not in crosswalk {a[0]}",
            )
        raise AssertionError(f"unhandled step {n}")  # spec.STEPS and this stay in step

    @staticmethod
    def _parse_check(x: str, out: str, message: str) -> Check:
        present = f"nullif(trim(CAST({x} AS VARCHAR)), '') IS NOT NULL"
        return Check(f"{present} AND {out} IS NULL", "bad_value", f"CAST({x} AS VARCHAR)", message)
