"""Synthetic Missouri districts: realistic, deterministic, with labelled defects on demand.

`generate(out_dir, students, seed, year, formats, defect_rate, campus_url)` writes a district in
every format Nexus reads (a Campus-shaped database, Campus extract CSVs, a OneRoster 1.2 bundle,
PowerSchool / Renaissance Star / ClassLink files) and returns a `SynthResult`;
`synth` is the `nexus synth` command. Distributions and sources: docs/synth.md.
"""

from nexus.synth.command import synth
from nexus.synth.defects import DEFECT_CLASSES
from nexus.synth.generate import FORMATS, SynthResult, build_model, generate

__all__ = ["DEFECT_CLASSES", "FORMATS", "SynthResult", "build_model", "generate", "synth"]
