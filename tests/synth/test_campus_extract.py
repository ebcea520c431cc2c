"""Campus extract CSVs: docs/campus.md's file names and headers, MM/DD/YYYY, RFC 4180, UTF-8,
and every value parses as the campus-extract connector's presets type it."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
import yaml

from tests.synth.conftest import ROOT, campus_doc, header, read_csv

PRESETS = ROOT / "src/nexus/integration/connectors/campus_extract/presets.yaml"


def test_files_and_headers_match_the_contract(clean) -> None:
    _, out = clean
    _, files = campus_doc()
    folder = out / "campus-extract"
    assert sorted(p.name for p in folder.glob("*.csv")) == sorted(files)
    for name, columns in files.items():
        assert header(folder / name) == columns, name


def test_rfc4180_utf8_and_keys(clean) -> None:
    _, out = clean
    _, files = campus_doc()
    for name, columns in files.items():
        raw = (out / "campus-extract" / name).read_bytes()
        raw.decode("utf-8")
        assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
        rows = list(csv.reader(raw.decode("utf-8").splitlines()))
        assert all(len(r) == len(columns) for r in rows), name
        assert len(rows) > 1, name


def test_dates_are_mm_dd_yyyy(clean) -> None:
    _, out = clean
    for path in (out / "campus-extract").glob("*.csv"):
        for row in read_csv(path)[:500]:
            for col, value in row.items():
                if value and (col.endswith(("Date", ".date", "birthdate"))):
                    fmt = "%m/%d/%Y %H:%M:%S" if col == "enrollment.modifiedDate" else "%m/%d/%Y"
                    dt.datetime.strptime(value, fmt)


@pytest.mark.skipif(not PRESETS.exists(), reason="campus-extract presets not in this tree")
def test_values_parse_as_the_connector_types_them(clean) -> None:
    _, out = clean
    spec = yaml.safe_load(PRESETS.read_text(encoding="utf-8"))
    for entity in spec["entities"]:
        path = out / "campus-extract" / entity["file"]
        rows = read_csv(path)
        assert set(entity["columns"]) <= set(rows[0])
        keys = [tuple(r[k] for k in entity["natural_key"]) for r in rows]
        assert len(keys) == len(set(keys)), entity["file"]
        assert all(all(k) for k in keys)
        for col, typ in entity["columns"].items():
            kind = typ if isinstance(typ, str) else typ["type"]
            for r in rows:
                v = r[col].strip()
                if not v:
                    continue
                if kind == "integer":
                    int(v)
                elif kind == "decimal":
                    float(v)
                elif kind == "boolean":
                    assert v.lower() in {"true", "false", "1", "0", "y", "n", "yes", "no"}, (col, v)
                elif kind in ("date", "datetime"):
                    dt.datetime.strptime(v, typ["format"])
