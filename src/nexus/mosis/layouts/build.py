"""Build the packaged MOSIS layouts of a school year from the shared reference CSVs.

    python -m nexus.mosis.layouts.build /path/to/shared/reference/mosis [--year 2027]

Reads the reference (`<layout>.csv`, `code_sets/*.csv`, `rules/*.csv`, whose README says how
reliable each row is) and writes `src/nexus/mosis/layouts/<year>/`:

- `<layout>.csv`, one row per field in the reference's order, with what the reference gives
  (item, names, requirement, code set, type, length, precision, cycles, summary, source year)
  plus what Nexus adds: `field_order`; `provenance` (`inferred` when the summary starts with
  INFERRED, `unverified` when it starts with UNVERIFIED or the row comes only from a vendor
  page, else `verified`) and `provenance_note` (the summary); `requirement` normalised to
  Required | Optional | Conditional | Not Allowed | Unknown | By cycle, with
  `requirement_by_cycle` parsed from "Aug: …; Jun: …"; `derivation`
  (`<layout>.<column in snake_case>`) and `null_handling`.
- `code_sets/<Name>.csv` (code, meaning, provenance) and `rules/<layout>.csv` (DESE's rule
  columns, severity E/W, provenance).

Only rows the reference has become fields; the one placeholder row that names no item (the
precode page's truncated item 115) is left out and named in `layouts.yaml`. `layouts.yaml`
(per-layout metadata and file format assumptions) is written by hand, not by this script; the
script checks that it names exactly the layouts it builds.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from pathlib import Path

import yaml

LAYOUTS = (
    "student_core",
    "student_enrollment_attendance",
    "educator_core",
    "educator_school",
    "course_assignment",
    "summer_course_assignment",
    "postsecondary_adult_course_assignment",
    "student_assignment",
    "summer_student_assignment",
    "student_course_completion",
    "school_calendar_header",
    "school_calendar_days",
    "student_discipline",
    "ctso",
    "asvab",
    "assessment_precode",
    "mosis_id_batch",
    "direct_certification_lookup",
)

FIELD_COLUMNS = (
    "field_order",
    "item",
    "item_name",
    "column_name",
    "requirement",
    "requirement_by_cycle",
    "code_set",
    "data_type",
    "length",
    "precision",
    "cycles",
    "derivation",
    "null_handling",
    "provenance",
    "provenance_note",
    "source_year",
)
CODE_COLUMNS = ("code", "meaning", "provenance")
RULE_COLUMNS = (
    "rule_id",
    "severity",
    "item",
    "item_name",
    "short_title",
    "business_rule",
    "general_message",
    "detailed_message",
    "cycles",
    "provenance",
    "source_year",
)

MONTHS = ("Aug", "Oct", "Dec", "Feb", "Apr", "Jun")
REQUIREMENTS = ("Not Allowed", "Required", "Optional", "Conditional")
NULL_HANDLING = {
    "Required": "error",
    "Optional": "blank",
    "Conditional": "conditional",
    "Not Allowed": "blank",
    "Unknown": "blank",
    "By cycle": "by-cycle",
}
# Code-set meanings the reference marks as doubtful (README "Code sets").
_DOUBTFUL = re.compile(r"unverified|\(verify\)|guess|not found in sources", re.IGNORECASE)


# Vendor rows that name several items at once (MOSIS ID batch): one field per item, each
# unverified, its note saying the items were named together and their positions not captured.
SPLIT_ITEMS = {
    "Birth date, gender, SSN, local student number": (
        "Birth Date",
        "Gender",
        "SSN",
        "Local Student Number",
    ),
}
# Vendor rows that describe a record of the file, not a field of its records (the batch's
# Header record): no field is made; the layout's notes in layouts.yaml say so.
NOT_FIELDS = {"Header record (extract date, extract time)"}


class BuildError(Exception):
    """The reference cannot be turned into packaged layouts (the message says why)."""


def snake(name: str) -> str:
    """`StateID` → `state_id`, `IEPDisability` → `iep_disability`, `4DaySchoolWeek` →
    `4_day_school_week`, `Military Entrance Score` → `military_entrance_score`."""
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"[^A-Za-z0-9]+", "_", text)
    return text.strip("_").lower()


def normalise_requirement(text: str) -> str | None:
    """One requirement word from the reference's wording, or None when it says nothing."""
    lowered = text.lower()
    for word in REQUIREMENTS:
        if word.lower() in lowered:
            return word
    return None


def parse_requirement(text: str) -> tuple[str, dict[str, str] | None]:
    """(`requirement`, `requirement_by_cycle`) from the reference's requirement cell.

    "Required" → ("Required", None); "Aug: Optional (2014); Jun: Required (2025)" →
    ("By cycle", {"Aug": "Optional", "Jun": "Required"}); a cycle whose requirement was
    "not captured" is left out of the map (it is Unknown); blank → ("Unknown", None).
    """
    text = text.strip()
    if not text:
        return "Unknown", None
    if re.match(rf"^({'|'.join(MONTHS)})\s*:", text):
        by_cycle: dict[str, str] = {}
        for part in text.split(";"):
            month, sep, value = part.partition(":")
            month = month.strip()
            if not sep or month not in MONTHS:
                raise BuildError(f"requirement {text!r}: cannot read {part.strip()!r}")
            word = normalise_requirement(value)
            if word is not None:
                by_cycle[month] = word
        return "By cycle", by_cycle or None
    word = normalise_requirement(text)
    if word is None:
        raise BuildError(f"requirement {text!r} is none of {', '.join(REQUIREMENTS)}")
    return word, None


def parse_cycles(text: str, layout_cycles: list[str]) -> list[str] | None:
    """The reference's `cycles` cell as DESE cycle codes (`Oct;Dec` → ["Oct", "Dec"]).

    Words that name no month ("Annual", "Any time", "Precode windows", "all") stand for every
    cycle of the layout; "EOC Exception" / "EOC Spring" are the precode windows. Blank → None
    (the field applies to every cycle of its layout)."""
    text = text.strip()
    if not text:
        return None
    found: list[str] = []
    for token in re.split(r";", text):
        months = re.findall(r"\b(Aug|Oct|Dec|Feb|Apr|Jun)", token)
        if months:
            found.extend(months)
        elif "eoc exception" in token.lower():
            found.append("EOCEXP")
        elif "eoc spring" in token.lower():
            found.append("EOCSPR")
        else:
            found.extend(layout_cycles)
    order = {c: i for i, c in enumerate(layout_cycles)}
    unique = sorted(set(found), key=lambda c: (order.get(c, len(order)), c))
    return unique


def provenance_of(summary: str, source_year: str) -> str:
    if summary.startswith("INFERRED"):
        return "inferred"
    if summary.startswith("UNVERIFIED"):
        return "unverified"
    # Rows whose only source is a vendor page were not seen on a DESE page.
    if source_year.strip().lower().startswith("vendor"):
        return "unverified"
    return "verified"


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [{k: (v or "") for k, v in row.items()} for row in csv.DictReader(handle)]


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row[c] for c in columns})
    path.write_text(buffer.getvalue(), encoding="utf-8")


def build_fields(layout: str, rows: list[dict[str, str]], layout_cycles: list[str]) -> list[dict]:
    fields: list[dict] = []
    derivations: set[str] = set()
    expanded: list[dict[str, str]] = []
    for row in rows:
        name = row["item_name"].strip()
        if name in NOT_FIELDS:
            continue
        for part in SPLIT_ITEMS.get(name, ()):
            expanded.append(
                row
                | {
                    "item_name": part,
                    "summary": f"{row['summary'].strip()} One of the items a vendor names "
                    f"together as {name!r}: position, width and format not captured.",
                }
            )
        if name not in SPLIT_ITEMS:
            expanded.append(row)
    for row in expanded:
        item_name = row["item_name"].strip()
        column = row["column_name"].strip()
        if not column and item_name in ("", "(truncated)"):
            continue  # a placeholder for an item the source cut off: no field to make
        summary = row["summary"].strip()
        note = summary
        # "4DayVoterAppStartYea[r]": the source cut the last letter off; the reference restored it.
        if re.search(r"\[[A-Za-z]\]$", column):
            column = re.sub(r"\[([A-Za-z])\]$", r"\1", column)
            note += " Column name cut off in the source; its last letter restored by the reference."
        raw_requirement = row["requirement"].strip()
        requirement, by_cycle = parse_requirement(raw_requirement)
        if raw_requirement and raw_requirement != requirement:
            note += f" Requirement as the reference gives it: {raw_requirement!r}."
        name = snake(column or item_name)
        derivation = f"{layout}.{name}"
        if derivation in derivations:
            derivation = f"{layout}.{name}_{row['item'].strip() or len(fields) + 1}"
        derivations.add(derivation)
        fields.append(
            {
                "field_order": len(fields) + 1,
                "item": row["item"].strip(),
                "item_name": item_name,
                "column_name": column,
                "requirement": requirement,
                "requirement_by_cycle": json.dumps(by_cycle) if by_cycle else "",
                "code_set": row["code_set"].strip(),
                "data_type": row["data_type"].strip(),
                "length": row["length"].strip(),
                "precision": row["precision"].strip(),
                "cycles": ";".join(parse_cycles(row["cycles"], layout_cycles) or []),
                "derivation": derivation,
                "null_handling": NULL_HANDLING[requirement],
                "provenance": provenance_of(summary, row["source_year"]),
                "provenance_note": note,
                "source_year": row["source_year"].strip(),
            }
        )
    return fields


def build_rules(rows: list[dict[str, str]], layout_cycles: list[str]) -> list[dict]:
    rules: list[dict] = []
    unnumbered = 0
    for row in rows:
        rule_id = row["rule_id"].strip()
        summary = row["rule_summary"].strip()
        source = row["source_year"].strip()
        if not rule_id:
            # DESE gave no ID (a vendor or FAQ described the rule): a key that is plainly ours.
            unnumbered += 1
            rule_id = f"NOID-{unnumbered:02d}"
            provenance = "unverified"
        elif "GUESS" in summary:
            provenance = "inferred"
        elif "vendor" in source.lower():
            provenance = "unverified"
        else:
            provenance = "verified"
        severity = row["severity"].strip().upper()
        if severity not in ("", "E", "W"):
            raise BuildError(f"rule {rule_id}: severity {severity!r} is neither E nor W")
        rules.append(
            {
                "rule_id": rule_id,
                "severity": severity,
                "item": row["item_number"].strip(),
                "item_name": row["item_name"].strip(),
                "short_title": row["short_title"].strip(),
                "business_rule": summary,
                "general_message": "",
                "detailed_message": row["message_template"].strip(),
                "cycles": ";".join(parse_cycles(row["cycles"], layout_cycles) or []),
                "provenance": provenance,
                "source_year": source,
            }
        )
    return rules


def build_code_set(rows: list[dict[str, str]]) -> list[dict]:
    return [
        {
            "code": row["code"].strip(),
            "meaning": row["meaning"].strip(),
            "provenance": "unverified" if _DOUBTFUL.search(row["meaning"]) else "verified",
        }
        for row in rows
    ]


def build(reference: Path, year: int = 2027, out: Path | None = None) -> dict[str, int]:
    """Write the packaged layouts of `year` from `reference`; returns fields per layout."""
    reference = Path(reference)
    out = Path(out) if out is not None else Path(__file__).resolve().parent / str(year)
    meta_path = Path(__file__).resolve().parent / str(year) / "layouts.yaml"
    if not (reference / "README.md").exists():
        raise BuildError(f"{reference} is not the MOSIS reference folder (no README.md)")
    meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))["layouts"]
    if set(meta) != set(LAYOUTS):
        raise BuildError(
            f"{meta_path} names {sorted(set(meta) ^ set(LAYOUTS))} differently from build.py"
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / "code_sets").mkdir(exist_ok=True)
    (out / "rules").mkdir(exist_ok=True)
    counts: dict[str, int] = {}
    for layout in LAYOUTS:
        cycles = list(meta[layout]["cycles"])
        fields = build_fields(layout, _read_csv(reference / f"{layout}.csv"), cycles)
        _write_csv(out / f"{layout}.csv", FIELD_COLUMNS, fields)
        counts[layout] = len(fields)
    for path in sorted((reference / "rules").glob("*.csv")):
        cycles = list(meta.get(path.stem, {}).get("cycles", []))
        _write_csv(out / "rules" / path.name, RULE_COLUMNS, build_rules(_read_csv(path), cycles))
    for path in sorted((reference / "code_sets").glob("*.csv")):
        _write_csv(out / "code_sets" / path.name, CODE_COLUMNS, build_code_set(_read_csv(path)))
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path, help="the shared reference/mosis folder")
    parser.add_argument("--year", type=int, default=2027, help="DESE school year (ending year)")
    parser.add_argument("--out", type=Path, default=None, help="folder to write (default: ours)")
    args = parser.parse_args(argv)
    try:
        counts = build(args.reference, args.year, args.out)
    except (BuildError, OSError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for layout, n in counts.items():
        print(f"{layout}: {n} fields")
    return 0


if __name__ == "__main__":
    sys.exit(main())
