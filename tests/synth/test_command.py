"""`nexus synth` as a Typer command: options, --json, and one-line errors with exit status."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from nexus.synth import synth


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("synth")(synth)
    app.command("noop")(lambda: None)  # keep `synth` a subcommand, as in nexus.cli
    return app


def test_json_output_and_layout(tmp_path: Path) -> None:
    out = tmp_path / "d"
    result = CliRunner().invoke(
        _app(),
        [
            "synth",
            "--students",
            "100",
            "--seed",
            "3",
            "--year",
            "2027",
            "--out",
            str(out),
            "--formats",
            "campus-extract,oneroster",
            "--defects",
            "0.02",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["school_year"] == "2026-27" and doc["students"] == 100
    assert doc["formats"] == ["campus-extract", "oneroster"]
    assert doc["defects"] > 0 and doc["campus_url"] is None
    for rel in (
        "district.json",
        "defects.csv",
        "campus-extract/attendance.csv",
        "oneroster/manifest.csv",
    ):
        assert (out / rel).exists(), rel
    assert not (out / "campus.duckdb").exists() and not (out / "vendors").exists()
    district = json.loads((out / "district.json").read_text())
    assert len(district["county_district_code"]) == 6 and district["school_year"] == "2026-27"
    assert {s["level"] for s in district["schools"]} == {
        "early_childhood",
        "elementary",
        "middle",
        "high",
    }


def test_human_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _app(), ["synth", "--students", "60", "--out", str(tmp_path), "--formats", "vendors"]
    )
    assert result.exit_code == 0, result.output
    assert "attendance rate" in result.stdout


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    for args in (
        ["--formats", "campus-db,parquet"],
        ["--year", "2026-28"],
        ["--students", "5"],
        ["--defects", "2"],
    ):
        result = runner.invoke(_app(), ["synth", "--out", str(tmp_path), *args])
        assert result.exit_code == 2, (args, result.output)
        assert "error:" in result.stderr


def test_unreachable_database_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _app(),
        [
            "synth",
            "--students",
            "60",
            "--out",
            str(tmp_path),
            "--formats",
            "campus-db",
            "--campus-url",
            "postgresql+psycopg://nobody@127.0.0.1:1/none",
        ],
    )
    assert result.exit_code == 1
    assert "error:" in result.stderr
