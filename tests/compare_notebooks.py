"""Did re-executing the notebooks change anything but the cells tagged `varying` (timings)?

`make check-notebooks` executes every notebook into a temporary folder and runs this against the
stored copies. Both are parsed as JSON and must be equal: notebook metadata and format, and every
field of every cell (source, outputs, execution count, metadata, id). A cell whose tags include
"varying" (a timing, a seconds-per-step) may differ in its outputs only.
Training results are compared too, so run it on the machine that ran `make notebooks`.

    python tests/compare_notebooks.py notebooks/ /tmp/executed/      # exit 1 and a list if not
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

VARYING = "varying"


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."


def differences(stored: dict, executed: dict) -> list[str]:
    """What differs between two notebooks, one line each; outputs of `varying` cells are ignored."""
    found = [f"notebook {key} changed" for key in ("metadata", "nbformat", "nbformat_minor")
             if stored.get(key) != executed.get(key)]
    a, b = stored.get("cells", []), executed.get("cells", [])
    if len(a) != len(b):
        return [*found, f"{len(a)} cells stored, {len(b)} executed"]
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x.get("source") != y.get("source"):
            found.append(f"cell {i}: the source differs (the stored notebook is not the one executed)")
            continue
        may_vary = ("outputs",) if VARYING in x.get("metadata", {}).get("tags", []) else ()
        for key in sorted((set(x) | set(y)) - set(may_vary)):
            if x.get(key) != y.get(key):
                where = "" if key != "outputs" else f" (first stored output: {_short((x.get(key) or [None])[0])})"
                found.append(f"cell {i}: {key} changed{where}")
    return found


def compare(stored_dir: Path, executed_dir: Path) -> dict[str, list[str]]:
    """{notebook name: differences} for every stored notebook; a missing executed copy is a difference."""
    report = {}
    for path in sorted(stored_dir.glob("*.ipynb")):
        other = executed_dir / path.name
        if not other.exists():
            report[path.name] = [f"no executed copy in {executed_dir}"]
            continue
        report[path.name] = differences(json.loads(path.read_text(encoding="utf-8")),
                                        json.loads(other.read_text(encoding="utf-8")))
    return report


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not all(Path(a).is_dir() for a in argv):
        print("usage: python tests/compare_notebooks.py STORED_DIR EXECUTED_DIR", file=sys.stderr)
        return 2
    report = compare(Path(argv[0]), Path(argv[1]))
    if not report:
        print(f"no notebooks in {argv[0]}", file=sys.stderr)
        return 2
    for name, found in report.items():
        print(f"{name}: {'identical apart from varying cells' if not found else 'CHANGED'}")
        for line in found:
            print(f"  {line}")
    return 1 if any(report.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
