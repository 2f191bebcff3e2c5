"""Compare outputs executed somewhere else with a notebook's stored outputs, by nbval's rules.

The browser suite runs every notebook in JupyterLab (tests/test_browser.py). Executing it a second
time under nbval only to compare outputs would double the slowest part of `make test`, so the
browser test compares what JupyterLab produced with the stored notebook here, and conftest.py
leaves out the nbval items of the notebooks it covers. Without Chromium, nbval runs as before.

The rules are nbval's own (its stream coalescing, its skipped keys, the sanitize patterns of
tests/nbval_sanitize.cfg): cells tagged `nbval-ignore-output` or `nbval-skip` (or with the
`# NBVAL_IGNORE_OUTPUT` / `# NBVAL_SKIP` comment) are not compared, images are not compared
(issue 18 adds figure checks), and a widget's view id never is (it is random).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import nbformat
from nbval.plugin import (
    coalesce_streams,
    find_comment_markers,
    find_metadata_tags,
    get_sanitize_patterns,
    transform_streams_for_comparison,
)

ROOT = Path(__file__).resolve().parent.parent
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
# nbval's skip_compare without --nbdime (plugin.IPyNbFile.__init__).
SKIP = ("metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
        "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg")


def _patterns() -> list[tuple[str, str]]:
    return list(get_sanitize_patterns(SANITIZE.read_text(encoding="utf-8")))


def _sanitize(value, patterns):
    import re

    if not isinstance(value, str):
        return value
    for regex, replace in patterns:
        value = re.sub(regex, replace, value)
    return value


def _joined(output: dict) -> dict:
    """A copy with multi-line strings as one string, as nbformat.read gives them to nbval."""
    out = json.loads(json.dumps(output))
    if isinstance(out.get("text"), list):
        out["text"] = "".join(out["text"])
    for mime, data in out.get("data", {}).items():
        if isinstance(data, list):
            out["data"][mime] = "".join(data)
    return out


def _flatten(outputs: list[dict], patterns) -> dict[str, list]:
    """nbval's comparison form: {key or MIME type: [value of each output that has it]}."""
    nodes = coalesce_streams([nbformat.from_dict(_joined(o)) for o in outputs])
    flat: dict[str, list] = defaultdict(list)
    for out in transform_streams_for_comparison(nodes):
        for key, value in out.items():
            if key in SKIP:
                continue
            if key == "data":
                for mime, data in value.items():
                    if mime not in SKIP:
                        flat[mime].append(_sanitize(data, patterns))
            else:
                flat[key].append(_sanitize(value, patterns))
    return dict(flat)


def _compared(cell: dict) -> bool:
    options = {**dict(find_metadata_tags(cell.get("metadata", {})) or ()),
               **dict(find_comment_markers("".join(cell.get("source", ""))))}  # comments win, as in nbval
    if options.get("skip") or options.get("check") is False:
        return False
    return cell.get("execution_count") is not None  # nbval does not compare a cell stored unrun


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 300 else text[:297] + "..."


def differences(stored: dict, executed: list[list[dict]]) -> list[str]:
    """What differs, one line per cell: `stored` is the notebook JSON, `executed` the outputs of its
    code cells in order (as JupyterLab's cell models give them)."""
    cells = [c for c in stored["cells"] if c["cell_type"] == "code"]
    if len(cells) != len(executed):
        return [f"{len(cells)} code cells stored, {len(executed)} executed"]
    patterns = _patterns()
    found = []
    for i, (cell, outputs) in enumerate(zip(cells, executed, strict=True)):
        if not _compared(cell):
            continue
        want, got = _flatten(cell.get("outputs", []), patterns), _flatten(outputs, patterns)
        if want != got:
            keys = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
            first = "".join(cell["source"]).splitlines()[:1]
            found.append(f"code cell {i} ({first[0][:60] if first else ''}): {', '.join(keys)} differ; stored "
                         f"{_short({k: want.get(k) for k in keys})}, executed {_short({k: got.get(k) for k in keys})}")
    return found
