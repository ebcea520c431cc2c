"""`nexus synth`: the command-line face of `nexus.synth.generate`.

`synth` is a plain function with Typer options, registered by `nexus.cli` as
`app.command("synth")(synth)`. Bad arguments exit with status 2 and failures (for example an
unreachable `--campus-url`) with status 1, each as one line on stderr; `--json` prints the
result object (`SynthResult.to_dict()`: fields are added, never renamed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.table import Table

from nexus.synth.generate import FORMATS, generate

_err = Console(stderr=True)


def synth(
    students: Annotated[
        int, typer.Option("--students", help="Number of students (50 to 2,000,000).")
    ] = 1000,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed; same arguments, same files.")
    ] = 1,
    year: Annotated[str, typer.Option("--year", help="School year: 2026-27 or 2027.")] = "2026-27",
    out: Annotated[Path, typer.Option("--out", help="Folder to write into.")] = Path("synth"),
    formats: Annotated[
        str, typer.Option("--formats", help=f"Comma list of {', '.join(FORMATS)}.")
    ] = ",".join(FORMATS),
    defects: Annotated[
        float,
        typer.Option(
            "--defects", help="Rate of labelled data-quality defects per class (0 = clean)."
        ),
    ] = 0.0,
    campus_url: Annotated[
        str | None,
        typer.Option(
            "--campus-url",
            help="Write the Campus database to this SQLAlchemy URL instead of OUT/campus.duckdb.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Synthesise a Missouri district: Campus database and extracts, OneRoster, vendor files."""
    progress = None if as_json else (lambda msg: _err.print(f"[dim]{msg}[/dim]", highlight=False))
    try:
        result = generate(
            out,
            students=students,
            seed=seed,
            year=year,
            formats=formats,
            defect_rate=defects,
            campus_url=campus_url,
            progress=progress,
        )
    except ValueError as exc:
        _err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        _err.print(f"[red]error:[/red] could not write the district: {first}", highlight=False)
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
        return
    console = Console()
    table = Table(title=f"Synthetic district in {result.out_dir}", show_header=True)
    table.add_column("entity")
    table.add_column("rows", justify="right")
    for name in (
        "students",
        "staff",
        "schools",
        "Enrollment",
        "AttendanceDay",
        "Section",
        "Roster",
        "BehaviorIncident",
        "TestScore",
        "TranscriptCourse",
        "star_tests",
    ):
        table.add_row(name, f"{result.counts.get(name, 0):,}")
    console.print(table)
    s = result.stats
    console.print(
        f"{result.school_year}, seed {result.seed}: attendance rate "
        f"{s['attendance_rate']:.1%}, chronically absent {s['chronic_absence_share']:.1%}; "
        f"{result.defects} labelled defects; {result.seconds:.1f} s",
        highlight=False,
    )
