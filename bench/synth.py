"""Benchmark `nexus synth`: seconds and peak memory for 25,000 and 250,000 students.

    python bench/synth.py                       # all formats, 25,000 and 250,000 students
    python bench/synth.py --sizes 25000 --formats campus-extract

Each size runs in a fresh Python process so its peak RSS is its own. Output goes to a temporary
folder that is deleted afterwards (`--keep DIR` keeps it). A benchmark prints figures; it does
not fail on timing.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _child(students: int, out: Path, formats: str, seed: int) -> None:
    from nexus.synth import generate

    started = time.perf_counter()
    result = generate(out, students=students, seed=seed, formats=formats)
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(
        json.dumps(
            {
                "students": students,
                "seconds": round(seconds, 2),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "attendance_rows": result.counts["AttendanceDay"],
                "rows_total": sum(v for k, v in result.counts.items() if k[0].isupper()),
                "output_mb": round(size / 2**20),
                "attendance_rate": round(result.stats["attendance_rate"], 4),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="25000,250000")
    parser.add_argument("--formats", default="campus-db,campus-extract,oneroster,vendors")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--child", nargs=2, metavar=("STUDENTS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(int(args.child[0]), Path(args.child[1]), args.formats, args.seed)
        return

    print(f"nexus synth benchmark: formats {args.formats}, seed {args.seed}")
    print(
        f"{'students':>10} {'seconds':>8} {'peak RSS':>9} {'attendance rows':>16} "
        f"{'rows/s':>10} {'all rows':>11} {'output':>8}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        base = args.keep or Path(tempfile.mkdtemp(prefix="nexus-synth-bench-"))
        out = base / f"district-{size}"
        try:
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    str(size),
                    str(out),
                    "--formats",
                    args.formats,
                    "--seed",
                    str(args.seed),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            r = json.loads(proc.stdout.strip().splitlines()[-1])
        finally:
            if args.keep is None:
                shutil.rmtree(base, ignore_errors=True)
        rate = r["rows_total"] / r["seconds"] if r["seconds"] else 0.0
        print(
            f"{r['students']:>10,} {r['seconds']:>8.1f} {r['peak_rss_mb']:>6,} MB "
            f"{r['attendance_rows']:>16,} {rate:>10,.0f} {r['rows_total']:>11,} "
            f"{r['output_mb']:>5,} MB",
            flush=True,
        )


if __name__ == "__main__":
    main()
