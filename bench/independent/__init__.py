"""Independent labelled evaluation set for near-duplicate news detection.

Written separately from ``bench/evalset.py`` (without reading it or the
detector) so the detector can be measured on data it was not tuned on.
Gold labels are decided by construction only. See ``README.md`` here.

Run: ``python -m bench.independent --size small --seed 7 --out set.jsonl``.
"""

from bench.independent.build import SIZES, build_records, write_jsonl

__all__ = ["SIZES", "build_records", "write_jsonl"]
