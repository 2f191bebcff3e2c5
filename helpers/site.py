"""`make html`: the executed notebooks as a static site for students without Python.

    python -m helpers.site              # writes site/index.html and one page per notebook
    python -m helpers.site --out docs   # another folder: new, empty, or one this command wrote before

Each page is the notebook with its stored outputs (figures embedded, token chips, tables), readable
offline from disk: nbconvert's scripts that would load require.js, MathJax or mermaid from a CDN
are removed (the notebooks use none of them), and nothing else on a page may reach the network
either (a remote image, frame, stylesheet or @import is dropped). What a notebook wrote is treated
as JupyterLab treats an untrusted notebook: markdown and stored HTML outputs lose what could run
code (scripts, on*= handlers, javascript: links), JavaScript outputs are not shown. Playgrounds,
which need a running kernel, show their one-line fallback saying so. Pages link to the index and to
the previous and next chapter. Every page carries MARKER, so a later build knows which files in the
output folder it may overwrite; it refuses a folder holding anything else.
"""

from __future__ import annotations

import argparse
import html
import numbers
import os
import re
import sys
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
# Written into the <head> of every page: the files in --out that the builder may overwrite.
MARKER = '<meta name="generator" content="python -m helpers.site (llm-concepts-lab)">'
# What the file manager leaves in a folder it showed (macOS Finder, Windows Explorer): not a reason to refuse.
OS_FILES = {".DS_Store", "Thumbs.db", "desktop.ini"}
# Pages written before MARKER existed are recognised by text only the builder writes.
LEGACY_SIGNS = ("Read-only page: the outputs were made by running this notebook.",
                "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>llm-concepts-lab</title>")
# nbconvert's own scripts from a CDN (the template's, not the notebook's): "https://...", "//...".
REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>.*?</script\s*>", re.S | re.I)
MODULE_WITH_IMPORT = re.compile(r"<script type=\"module\">(?:(?!</script>).)*?(?:https?:|[\"'])//"
                                r"(?:(?!</script>).)*</script>", re.S)
# Markdown cells and stored HTML outputs are the notebook author's text: what JupyterLab would not
# run is dropped from the page (scripts, frames, on*= handlers, javascript: links), as JupyterLab's
# own sanitizer does, and so is what would load from another host (<img src="https://...">).
MARKDOWN_TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details",
                 "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
                 "img", "input", "kbd", "li", "mark", "ol", "p", "pre", "s", "small", "span", "strong", "sub",
                 "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul"}
DROPPED_WHOLE = {"script", "style", "iframe", "object", "embed"}  # with their contents, not only the tags
MARKDOWN_ATTRIBUTES = ("alt", "align", "checked", "class", "colspan", "disabled", "height", "href", "id", "name",
                       "rowspan", "src", "start", "style", "title", "type", "width")
# Attributes a browser follows by itself when the page opens (href only outside <a>/<area>, where it
# waits for a click); srcdoc is a whole page of its own.
FETCHING_ATTRIBUTES = {"src", "srcset", "imagesrcset", "poster", "data", "background", "href", "lowsrc", "dynsrc",
                       "codebase", "archive", "manifest", "srcdoc"}
CSS_URL_FUNCTIONS = {"url", "src", "image", "image-set", "-webkit-image-set", "cross-fade", "-webkit-cross-fade",
                     "element", "-moz-element"}
REMOTE_IN_CODE = re.compile(r"\b[a-z][a-z0-9+.-]*://|[\"'`]\s*//", re.I)
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


def is_remote(url: str) -> bool:
    """Whether `url` points beyond the files beside the page: it names a scheme other than data:
    (https:, ftp:, file:, javascript:...) or another host (//cdn...), once decoded the way a browser
    reads it (entities, spaces around it, tabs and newlines inside, backslashes for slashes)."""
    url = re.sub(r"[\t\n\r]", "", html.unescape(url)).strip("".join(map(chr, range(33)))).replace("\\", "/")
    scheme = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", url)
    return url.startswith("//") or (scheme is not None and scheme.group(1).lower() != "data")


def _css_is_remote(tokens, strings_are_urls: bool = False) -> bool:
    """Whether parsed CSS (tinycss2 tokens) loads a remote file: url(), image-set("..."), @import "..."."""
    for token in tokens:
        if token.type == "url" or (token.type == "string" and strings_are_urls):
            if is_remote(token.value):
                return True
        elif token.type == "function":
            if token.lower_name == "expression" or _css_is_remote(
                    token.arguments, strings_are_urls or token.lower_name in CSS_URL_FUNCTIONS):
                return True
        elif token.type in ("() block", "[] block", "{} block") and _css_is_remote(token.content, strings_are_urls):
            return True
    return False


def stylesheet_is_remote(css: str) -> bool:
    """Whether the text of a <style> element loads anything from the network (@import, url())."""
    import tinycss2

    for rule in tinycss2.parse_stylesheet(css):
        imports = rule.type == "at-rule" and rule.lower_at_keyword == "import"
        if rule.type in ("at-rule", "qualified-rule") and (
                _css_is_remote(rule.prelude, strings_are_urls=imports) or _css_is_remote(rule.content or [])):
            return True
    return False


def _css_sanitizer(every_property: bool):
    """bleach's style-attribute sanitizer, minus every declaration that loads a remote file. With
    every_property (stored outputs: the helpers' views use flex, gap, border-radius...) a style is
    otherwise kept as written; without, only bleach's short list of properties stays (markdown)."""
    import tinycss2
    from bleach.css_sanitizer import CSSSanitizer

    class LocalCSS(CSSSanitizer):
        def sanitize_css(self, style):
            declarations = tinycss2.parse_declaration_list(style)
            if any(d.type == "declaration" and _css_is_remote(d.value) for d in declarations):
                style = " ".join(tinycss2.serialize([d]) for d in declarations
                                 if d.type == "declaration" and not _css_is_remote(d.value))
            return style if every_property else super().sanitize_css(style)

    return LocalCSS()


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    return name in MARKDOWN_ATTRIBUTES and not (name == "src" and is_remote(value))


def _parse(text: str, fragment: bool = True):
    from bleach._vendor import html5lib

    if fragment:
        return html5lib.parseFragment(text, treebuilder="etree", namespaceHTMLElements=False)
    return html5lib.parse(text, treebuilder="etree", namespaceHTMLElements=False)


def _serialize(tree) -> str:
    from bleach._vendor import html5lib
    from bleach._vendor.html5lib.serializer import HTMLSerializer

    walker = html5lib.getTreeWalker("etree")
    return HTMLSerializer(omit_optional_tags=False, quote_attr_values="always").render(walker(tree))


def _local_name(name) -> str:
    """'{http://www.w3.org/1999/xlink}href' -> 'href' (html5lib keeps SVG's namespaces)."""
    return name.rsplit("}", 1)[-1].lower() if isinstance(name, str) else ""


def _remove(tree, doomed) -> None:
    """Take elements out of an html5lib etree, keeping the text that follows each."""
    parents = {child: parent for parent in tree.iter() for child in parent}
    for element in doomed:
        parent = parents[element]
        if element.tail:
            i = list(parent).index(element)
            if i:
                parent[i - 1].tail = (parent[i - 1].tail or "") + element.tail
            else:
                parent.text = (parent.text or "") + element.tail
        parent.remove(element)


def _drop_blocks(fragment: str) -> str:
    """The fragment without its <script>, <style>, <iframe>, <object> and <embed> elements, contents
    included (bleach would strip the tags and keep the text inside, a script's code among it)."""
    if not any(f"<{tag}" in fragment.lower() for tag in DROPPED_WHOLE):
        return fragment
    tree = _parse(fragment)
    _remove(tree, [e for e in tree.iter() if _local_name(e.tag) in DROPPED_WHOLE])
    return _serialize(tree)


def _clean(fragment: str, every_css_property: bool) -> str:
    import bleach

    return bleach.clean(_drop_blocks(fragment), tags=MARKDOWN_TAGS, attributes=_allowed_attribute, strip=True,
                        strip_comments=False, css_sanitizer=_css_sanitizer(every_css_property))


def sanitize_markdown(rendered: str) -> str:
    """The HTML of one markdown cell without what could run code (<script>, <iframe>, onerror=,
    javascript:) or load from the network (<img src="https://...">)."""
    return _clean(rendered, every_css_property=False)


def sanitize_output(stored: str) -> str:
    """A stored text/html output, cleaned like a markdown cell (sanitize_markdown) but keeping every
    inline style the helpers' views use, less those that load a remote file (url(https://...))."""
    return _clean(stored, every_css_property=True)


def _is_size(value) -> bool:
    return ((isinstance(value, numbers.Real) and not isinstance(value, bool))
            or (isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?%?\s*", value) is not None))


def sanitize_outputs(nb) -> None:
    """Make a notebook's stored outputs safe to show on a page, in place: text/html goes through
    sanitize_output, JavaScript outputs are dropped (JupyterLab does not run them in an untrusted
    notebook either; the plain-text fallback is shown), and an image width/height that is not a
    number is dropped (nbconvert writes it unquoted: "1 onerror=..." would become an attribute)."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for mime in [m for m in data if "javascript" in m.lower()]:
                del data[mime]
            if "text/html" in data:
                stored = data["text/html"]
                data["text/html"] = sanitize_output("".join(stored) if isinstance(stored, list) else str(stored))
            metadata = output.get("metadata", {})
            for place in [metadata, *(v for v in metadata.values() if isinstance(v, dict))]:
                for key in ("width", "height"):
                    if key in place and not _is_size(place[key]):
                        del place[key]


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


def _network_parts(tree) -> bool:
    """Remove from a parsed page, in place, whatever would run or reach the network: a script with a
    remote src or a remote URL in its code, a <style> importing a remote file, a meta refresh, any
    on*= handler, a javascript: link, a src/href/srcset/... that is not on disk. True if it removed any."""
    doomed, changed = [], False
    css = _css_sanitizer(every_property=True)
    for element in tree.iter():
        tag = _local_name(element.tag)
        if ((tag == "script" and (is_remote(element.get("src", "")) or REMOTE_IN_CODE.search(element.text or "")))
                or (tag == "style" and stylesheet_is_remote(element.text or ""))
                or (tag == "meta" and element.get("http-equiv", "").strip().lower() == "refresh")):
            doomed.append(element)
            continue
        for name, value in list(element.attrib.items()):
            local = _local_name(name)
            follows = local in FETCHING_ATTRIBUTES and not (local == "href" and tag in ("a", "area"))
            urls = [part.split()[0] for part in value.split(",") if part.split()] if "srcset" in local else [value]
            if (local.startswith("on") or local == "srcdoc" or (follows and any(map(is_remote, urls)))
                    or (local == "href" and re.match(r"\s*javascript:", html.unescape(value), re.I))):
                del element.attrib[name]
                changed = True
            elif local == "style" and css.sanitize_css(value) != value:
                element.set(name, css.sanitize_css(value))
                changed = True
    _remove(tree, doomed)
    return changed or bool(doomed)


def strip_remote(page: str) -> str:
    """The page without anything that would fetch from the network when it is opened: nbconvert's CDN
    scripts first, then, found by parsing the page as a browser does, any other remote script, image,
    frame, stylesheet or @import (and any on*= handler); a page with none is returned as it was."""
    page = REMOTE_SCRIPT.sub("", page)
    page = MODULE_WITH_IMPORT.sub("", page)
    tree = _parse(page, fragment=False)
    if not _network_parts(tree):
        return page
    doctype = "<!DOCTYPE html>\n" if page.lstrip()[:9].lower() == "<!doctype" else ""
    return doctype + _serialize(tree)


def nav(pages: list[tuple[str, str]], i: int) -> str:
    links = ["<a href='index.html'>all chapters</a>"]
    if i > 0:
        links.append(f"← <a href='{href(pages[i - 1][0])}'>{html.escape(pages[i - 1][1])}</a>")
    if i + 1 < len(pages):
        links.append(f"<a href='{href(pages[i + 1][0])}'>{html.escape(pages[i + 1][1])}</a> →")
    note = ("Read-only page: the outputs were made by running this notebook. Playgrounds need a running "
            "kernel: open the notebook in JupyterLab (<code>make lab</code>) to use them.")
    return f"<div style='{STYLE}'>{' · '.join(links)}<div style='color:#666666;font-size:13px'>{note}</div></div>"


def _is_ours(path: Path) -> bool:
    """Whether a file in the output folder is a page this builder wrote (so a new build may replace it)."""
    if not path.is_file() or path.is_symlink() or path.suffix != ".html":
        return False
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return MARKER in text or any(sign in text for sign in LEGACY_SIGNS)


def check_out(out) -> Path:
    """The output folder as a Path, refused before any work when it is '' (that would be the current
    folder), a file, or a folder holding files this builder did not write (a teacher's own index.html)."""
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a folder path (str or Path), got {type(out).__name__}")
    if not os.fspath(out).strip():
        raise ValueError("the output folder is '' (empty): name a folder for the site, e.g. --out site")
    out = Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder: choose a folder for the site (a new one is made)")
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir() if p.name not in OS_FILES and not _is_ours(p))
        if foreign:
            shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
            raise ValueError(f"{out} holds files this site builder did not write ({shown}); it would mix "
                             "pages with them or overwrite them: choose a new or empty folder for --out")
    return out


def check_notebooks(notebooks) -> list[Path]:
    """The notebooks to build, in chapter (path) order; None means every notebook in notebooks/.
    Refused: an empty list, a missing file, a notebook named index (its page would be the site's index)
    and two notebooks that would write the same page (x.ipynb in two folders)."""
    if notebooks is None:
        notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
        if not notebooks:
            raise FileNotFoundError(f"no notebooks in {ROOT / 'notebooks'} to render")
    if isinstance(notebooks, (str, os.PathLike)):
        raise TypeError(f"notebooks must be a list of .ipynb paths, got one path: write [{os.fspath(notebooks)!r}]")
    try:
        notebooks = sorted(Path(p) for p in notebooks)
    except TypeError:
        raise TypeError("notebooks must be a list of .ipynb paths (str or Path), got "
                        f"{type(notebooks).__name__}") from None
    if not notebooks:
        raise ValueError("the list of notebooks is empty: pass at least one .ipynb path, or leave notebooks "
                         "out (None) to build every notebook in notebooks/")
    pages: dict[str, Path] = {}
    for p in notebooks:
        if not p.is_file():
            raise FileNotFoundError(f"no notebook file {p}: check the path")
        page = (p.stem + ".html").lower()  # lower: on macOS and Windows X.html and x.html are one file
        if page == "index.html":
            raise ValueError(f"{p} would be written as index.html, the site's list of chapters: rename the "
                             "notebook (e.g. intro.ipynb)")
        if page in pages:
            if pages[page].resolve() == p.resolve():
                raise ValueError(f"{p} is listed twice: pass each notebook once")
            raise ValueError(f"{pages[page]} and {p} would both be written as {p.stem}.html, one over the "
                             "other: rename one of them")
        pages[page] = p
    return notebooks


def read_notebook(path: Path):
    """nbformat.read, with a file that is not a notebook (merge-conflict markers, a truncated save, not
    UTF-8) refused in one line naming it."""
    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except UnicodeDecodeError:
        problem = "it is not UTF-8 text"
    except nbformat.reader.NotJSONError:
        problem = "it is not valid JSON (a merge-conflict marker or a truncated save?)"
    except (ValueError, KeyError, TypeError, AttributeError, nbformat.ValidationError) as err:
        problem = f"it is not a Jupyter notebook ({str(err).splitlines()[0][:120] if str(err) else type(err).__name__})"
    raise ValueError(f"cannot read {path}: {problem}. Open it in JupyterLab, or restore it with git") from None


def build(out: Path | str = ROOT / "site", notebooks: list[Path] | None = None) -> list[Path]:
    """Write index.html and one page per notebook (chapter order) into `out`; returns the files written.

    `out` must be new, empty, or hold only pages this builder wrote (check_out); `notebooks` defaults to
    every notebook in notebooks/ (check_notebooks). Everything is checked before anything is written.
    """
    out = check_out(out)
    notebooks = check_notebooks(notebooks)
    books = [read_notebook(p) for p in notebooks]
    for p, nb in zip(notebooks, books, strict=True):
        unexecuted = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.execution_count is None]
        if unexecuted:
            raise ValueError(f"{p.name} has cells that were never run ({unexecuted[:5]}); run `make notebooks` first")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OSError(f"cannot make the folder {out} ({err.strerror or err}): choose another --out") from None
    pages = [(p.stem + ".html", notebook_title(nb)) for p, nb in zip(notebooks, books, strict=True)]
    exporter = _exporter()
    written = []
    for i, nb in enumerate(books):
        sanitize_outputs(nb)
        body, _ = exporter.from_notebook_node(nb)
        body = strip_remote(body)
        header = nav(pages, i)
        body = re.sub(r"(<head\b[^>]*>)", lambda m: m.group(1) + MARKER, body, count=1)
        body = re.sub(r"(<body[^>]*>)", lambda m, header=header: m.group(1) + header, body, count=1)
        target = out / pages[i][0]
        target.write_text(body, encoding="utf-8")
        written.append(target)
    items = "".join(
        f"<li style='margin:12px 0'><a href='{href(name)}' style='font-size:18px'>{html.escape(title)}</a>"
        f"<div style='color:#444444'>{html.escape(notebook_summary(nb))}</div></li>"
        for (name, title), nb in zip(pages, books, strict=True))
    index = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>llm-concepts-lab</title>"
             f"{MARKER}</head>"
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
    try:
        files = build(args.out)
    except (ValueError, TypeError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {len(files)} pages to {args.out}: open {Path(args.out) / 'index.html'} in a browser")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
