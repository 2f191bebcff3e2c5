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
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
# A script whose src is another host: "https://...", "http://..." or protocol-relative "//...", quoted or not.
REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>.*?</script\s*>", re.S | re.I)
MODULE_WITH_IMPORT = re.compile(r"<script type=\"module\">(?:(?!</script>).)*?(?:https?:|[\"'])//"
                                r"(?:(?!</script>).)*</script>", re.S)
# Markdown cells are the notebook author's text: what JupyterLab would not run is dropped from the page
# (scripts, frames, on*= handlers, javascript: links), as JupyterLab's own sanitizer does.
MARKDOWN_TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details",
                 "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
                 "img", "input", "kbd", "li", "mark", "ol", "p", "pre", "s", "small", "span", "strong", "sub",
                 "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul"}
RUNNABLE_BLOCK = re.compile(r"<(script|style|iframe|object|embed)\b.*?</\1\s*>", re.S | re.I)
MARKDOWN_ATTRIBUTES = ("alt", "align", "checked", "class", "colspan", "disabled", "height", "href", "id", "name",
                       "rowspan", "src", "start", "style", "title", "type", "width")
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


def href(page_name: str) -> str:
    """A page's file name as an attribute value: percent-encoded, so a quote in a name ends nothing."""
    return html.escape(quote(page_name), quote=True)


def sanitize_markdown(rendered: str) -> str:
    """The HTML of one markdown cell without what could run code: <script>, <iframe>, onerror=, javascript:."""
    import bleach
    from bleach.css_sanitizer import CSSSanitizer

    rendered = RUNNABLE_BLOCK.sub("", rendered)  # the blocks go whole; bleach would keep their text
    return bleach.clean(rendered, tags=MARKDOWN_TAGS, attributes=list(MARKDOWN_ATTRIBUTES), strip=True,
                        strip_comments=False, css_sanitizer=CSSSanitizer())


def _exporter():
    """nbconvert's lab exporter, with markdown cells sanitized (nbconvert's own sanitize_html would also
    strip the inline styles of every helper's output)."""
    from jinja2 import pass_context
    from nbconvert import HTMLExporter

    class Exporter(HTMLExporter):
        @pass_context
        def markdown2html(self, context, source):
            return sanitize_markdown(super().markdown2html(context, source))

    return Exporter(template_name="lab")


def strip_remote(page: str) -> str:
    """Remove every script that would fetch code from the network; the page must work from disk."""
    page = REMOTE_SCRIPT.sub("", page)
    page = MODULE_WITH_IMPORT.sub("", page)
    return page


def nav(pages: list[tuple[str, str]], i: int) -> str:
    links = ["<a href='index.html'>all chapters</a>"]
    if i > 0:
        links.append(f"← <a href='{href(pages[i - 1][0])}'>{html.escape(pages[i - 1][1])}</a>")
    if i + 1 < len(pages):
        links.append(f"<a href='{href(pages[i + 1][0])}'>{html.escape(pages[i + 1][1])}</a> →")
    note = ("Read-only page: the outputs were made by running this notebook. Playgrounds need a running "
            "kernel: open the notebook in JupyterLab (<code>make lab</code>) to use them.")
    return f"<div style='{STYLE}'>{' · '.join(links)}<div style='color:#666666;font-size:13px'>{note}</div></div>"


def build(out: Path | str = ROOT / "site", notebooks: list[Path] | None = None) -> list[Path]:
    """Write index.html and one page per notebook (chapter order) into `out`; returns the files written."""
    import nbformat

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    notebooks = sorted(notebooks or (ROOT / "notebooks").glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError("no notebooks to render")
    exporter = _exporter()
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
        f"<li style='margin:12px 0'><a href='{href(name)}' style='font-size:18px'>{html.escape(title)}</a>"
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
