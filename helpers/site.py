"""`make html`: the executed notebooks as a static site for students without Python.

    python -m helpers.site              # writes site/index.html and one page per notebook

Each page is the notebook with its stored outputs (figures embedded, token chips, tables), readable
offline from disk: nbconvert's scripts that would load require.js, MathJax or mermaid from a CDN
are removed (the notebooks use none of them). Playgrounds, which need a running kernel, show their
one-line fallback saying so. Pages link to the index and to the previous and next chapter.
"""

from __future__ import annotations

import argparse
import html
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>", re.S)
MODULE_WITH_IMPORT = re.compile(r"<script type=\"module\">(?:(?!</script>).)*?https?://(?:(?!</script>).)*</script>",
                                re.S)
STYLE = ("font-family:system-ui,sans-serif;max-width:1100px;margin:0 auto;padding:10px 16px;"
         "border-bottom:1px solid #dddddd;font-size:15px;")


def notebook_title(nb) -> str:
    """The first level-1 heading of a notebook, without the '#'."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "untitled"


def notebook_summary(nb) -> str:
    """The first paragraph after the title."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            paragraphs = [p.strip() for p in cell.source.split("\n\n") if p.strip() and not p.startswith("#")]
            if paragraphs:
                return paragraphs[0].replace("\n", " ")
    return ""


def strip_remote(page: str) -> str:
    """Remove every script that would fetch code from the network; the page must work from disk."""
    page = REMOTE_SCRIPT.sub("", page)
    page = MODULE_WITH_IMPORT.sub("", page)
    return page


def nav(pages: list[tuple[str, str]], i: int) -> str:
    links = ["<a href='index.html'>all chapters</a>"]
    if i > 0:
        links.append(f"← <a href='{pages[i - 1][0]}'>{html.escape(pages[i - 1][1])}</a>")
    if i + 1 < len(pages):
        links.append(f"<a href='{pages[i + 1][0]}'>{html.escape(pages[i + 1][1])}</a> →")
    note = ("Read-only page: the outputs were made by running this notebook. Playgrounds need a running "
            "kernel: open the notebook in JupyterLab (<code>make lab</code>) to use them.")
    return f"<div style='{STYLE}'>{' · '.join(links)}<div style='color:#666666;font-size:13px'>{note}</div></div>"


def build(out: Path | str = ROOT / "site", notebooks: list[Path] | None = None) -> list[Path]:
    """Write index.html and one page per notebook (chapter order) into `out`; returns the files written."""
    import nbformat
    from nbconvert import HTMLExporter

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    notebooks = sorted(notebooks or (ROOT / "notebooks").glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError("no notebooks to render")
    exporter = HTMLExporter(template_name="lab")
    books = [nbformat.read(p, as_version=4) for p in notebooks]
    for p, nb in zip(notebooks, books, strict=True):
        unexecuted = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.execution_count is None]
        if unexecuted:
            raise ValueError(f"{p.name} has cells that were never run ({unexecuted[:5]}); run `make notebooks` first")
    pages = [(p.stem + ".html", notebook_title(nb)) for p, nb in zip(notebooks, books, strict=True)]
    written = []
    for i, nb in enumerate(books):
        body, _ = exporter.from_notebook_node(nb)
        body = strip_remote(body)
        header = nav(pages, i)
        body = re.sub(r"(<body[^>]*>)", lambda m, header=header: m.group(1) + header, body, count=1)
        target = out / pages[i][0]
        target.write_text(body, encoding="utf-8")
        written.append(target)
    items = "".join(
        f"<li style='margin:12px 0'><a href='{name}' style='font-size:18px'>{html.escape(title)}</a>"
        f"<div style='color:#444444'>{html.escape(notebook_summary(nb))}</div></li>"
        for (name, title), nb in zip(pages, books, strict=True))
    index = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>llm-concepts-lab</title></head>"
             f"<body style='font-family:system-ui,sans-serif;max-width:900px;margin:24px auto;padding:0 16px'>"
             "<h1>llm-concepts-lab（大语言模型概念实验室）</h1>"
             "<p>The notebooks for <i>Hands-On Large Language Models</i>, run on a CPU with real models, "
             "with their outputs. These pages need no Python and no network. To run the code and use the "
             "playgrounds, clone the project and run <code>make lab</code>.</p>"
             f"<ol style='padding-left:20px'>{items}</ol></body></html>")
    (out / "index.html").write_text(index, encoding="utf-8")
    return [out / "index.html", *written]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.site", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "site"), help="output folder (default: site/)")
    args = parser.parse_args(argv)
    files = build(args.out)
    print(f"wrote {len(files)} pages to {args.out}: open {Path(args.out) / 'index.html'} in a browser")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
