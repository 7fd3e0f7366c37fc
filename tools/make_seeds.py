"""Build seeds/sample.jsonl from the project owner's seed file.

The seed file (../shared/seeds/000_*.txt) holds one article per line: lines
2 and 3 are one AP story published twice, the rest are distinct articles
(lines 1 and 4 report the same events independently). Ids are the line
numbers, so a reader can check the expected single cluster {2, 3}.

    python tools/make_seeds.py [../shared/seeds] > seeds/sample.jsonl
"""

import json
import sys
from pathlib import Path

SOURCES = {1: "Al Jazeera", 2: "AP", 3: "AP (syndicated copy)", 4: "Al Jazeera"}


def main(folder: str = "../shared/seeds") -> None:
    seed = sorted(Path(folder).glob("000_*.txt"))[0]
    for n, line in enumerate(seed.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            rec = {"id": str(n), "text": line, "source": SOURCES.get(n, "unknown")}
            sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
