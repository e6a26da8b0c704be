"""``python -m pipelines.datasette docs/dataset.md``: rewrite columns.json from the docs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pipelines.datasette import parse_columns


def main(argv: list[str]) -> int:
    docs = Path(argv[0] if argv else "docs/dataset.md")
    target = Path(__file__).with_name("columns.json")
    found = parse_columns(docs.read_text(encoding="utf-8"))
    target.write_text(json.dumps(found, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{target}: {sum(len(c) for c in found.values())} columns of {len(found)} tables")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
