import nbformat
import pytest
from bad_input import assert_clear_error

from helpers import site


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    return out, site.build(out)


def test_one_page_per_notebook_and_an_index_in_chapter_order(built):
    out, files = built
    assert [f.name for f in files] == ["index.html", "ch01_generating_text.html", "ch02_tokens_and_embeddings.html",
                                       "ch03_inside_llms.html", "ch03b_inside_the_block.html",
                                       "ch12a_lora_and_qlora.html", "ch12b_fine_tuning.html"]
    index = (out / "index.html").read_text()
    positions = [index.index(f.name) for f in files[1:]]
    assert positions == sorted(positions)
    assert "Chapter 12b · Fine-tuning" in index


def test_pages_load_nothing_from_the_network(built):
    _, files = built
    for f in files:
        page = f.read_text()
        assert 'src="http' not in page and "import(\"http" not in page, f.name
        assert "cdnjs" not in page, f.name


def test_pages_carry_their_outputs_and_say_what_needs_a_kernel(built):
    out, _ = built
    ch02 = (out / "ch02_tokens_and_embeddings.html").read_text()
    assert ch02.count("data:image/png;base64") >= 5  # figures embedded, not linked
    assert "Tokenizer playground: run this cell in JupyterLab" in ch02
    assert "Playgrounds need a running kernel" in ch02 and "all chapters" in ch02


def test_every_page_carries_the_marker_and_the_helpers_views_are_kept_as_they_were(built):
    """The outputs of the project's own notebooks pass the sanitiser unchanged (same DOM, styles and all)."""
    from bleach._vendor import html5lib

    _, files = built
    assert all(site.MARKER in f.read_text() for f in files)

    def tree(fragment):
        root = html5lib.parseFragment(fragment, treebuilder="etree", namespaceHTMLElements=False)
        return [(e.tag, sorted(e.attrib.items()), e.text, e.tail) for e in root.iter()]

    views = [o.data["text/html"] for nb in sorted((site.ROOT / "notebooks").glob("*.ipynb"))
             for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "code"
             for o in c.outputs if "text/html" in o.get("data", {})]
    assert len(views) >= 20
    for view in views:
        assert tree(site.sanitize_output(view)) == tree(view)


def test_strip_remote_keeps_local_scripts():
    page = ('<script src="https://cdn.example/x.js"></script><script>local()</script>'
            '<script type="module">const m = await import("https://cdn.example/m.mjs");</script>')
    assert site.strip_remote(page) == "<script>local()</script>"


def test_an_unexecuted_notebook_is_refused(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T"), nbformat.v4.new_code_cell("1 + 1")])
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(ValueError, match="never run.*make notebooks"):
        site.build(tmp_path / "site", [path])


# ---------------------------------------------------------------- second probe (S21-S44): bad input to the site
# Each row: (what the learner did, the call, the exception type, a regex the message must match). The
# result tests below check what a page holds once a notebook's stored outputs are sanitised.


def _notebook(path, *cells):
    """An executed notebook at `path` (its folder is made): a title cell, then `cells`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = [nbformat.v4.new_markdown_cell(f"# {path.stem}\n\nIts summary."), *cells]
    for cell in cells:
        if cell.cell_type == "code":
            cell.execution_count = 1
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def _output_cell(data, metadata=None):
    cell = nbformat.v4.new_code_cell("show()")
    cell.outputs = [nbformat.v4.new_output("display_data", data=data, metadata=metadata or {})]
    return cell


@pytest.fixture(scope="module")
def f(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad_site")
    teacher = d / "teacher"
    teacher.mkdir()
    (teacher / "index.html").write_text("<h1>the teacher's own course page</h1>")
    notes = d / "notes"
    notes.mkdir()
    (notes / "notes.txt").write_text("my notes")
    (notes / "sub").mkdir()
    (d / "afile").write_text("not a folder")
    for name, text in {"broken.ipynb": "{not json", "empty.ipynb": "", "dict.ipynb": "{}", "list.ipynb": "[]",
                       "conflict.ipynb": '<<<<<<< HEAD\n{"cells": []}\n=======\n'}.items():
        (d / name).write_text(text)
    (d / "latin1.ipynb").write_bytes(b"\xff\xfe{")
    return {"dir": d, "out": d / "site", "x": _notebook(d / "x.ipynb"), "index": _notebook(d / "index.ipynb"),
            "Index": _notebook(d / "upper" / "Index.ipynb"), "a/x": _notebook(d / "a" / "x.ipynb"),
            "b/x": _notebook(d / "b" / "x.ipynb"), "teacher": teacher, "notes": notes, "afile": d / "afile"}


def build_one(name: str):
    """A table call: build the site from one of the fixture's notebook files."""
    return lambda f: site.build(f["out"], [f["dir"] / name])


CASES = {
    # S34, S35: page names that collide
    "S34 a notebook named index.ipynb (its page would be the site's index)": (
        lambda f: site.build(f["out"], [f["index"], f["x"]]), ValueError, "index.ipynb would be written as index.html.*"
                                                                           "rename the notebook"),
    "S34 Index.ipynb (one file with index.html on macOS and Windows)": (
        lambda f: site.build(f["out"], [f["Index"]]), ValueError, "Index.ipynb would be written as index.html"),
    "S35 two notebooks named x.ipynb in different folders": (
        lambda f: site.build(f["out"], [f["a/x"], f["b/x"]]), ValueError,
        "would both be written as x.html.*rename one"),
    "S35 the same notebook listed twice": (
        lambda f: site.build(f["out"], [f["x"], f["dir"] / "." / "x.ipynb"]), ValueError, "listed twice"),
    # S36: the list of notebooks
    "S36 build(out, []) (an empty list, not None)": (
        lambda f: site.build(f["out"], []), ValueError, "list of notebooks is empty: pass at least one .ipynb path"),
    "S36 one path instead of a list": (lambda f: site.build(f["out"], str(f["x"])), TypeError,
                                       "list of .ipynb paths, got one path: write \\["),
    "S36 a list holding a number": (lambda f: site.build(f["out"], [42]), TypeError, "list of .ipynb paths"),
    "S36 a notebook path that does not exist": (
        build_one("nope.ipynb"), FileNotFoundError, "no notebook file .*nope.ipynb"),
    # S37: a file that is not a notebook
    "S37 a notebook file that is not JSON": (
        build_one("broken.ipynb"), ValueError,
        "cannot read .*broken.ipynb: it is not valid JSON.*restore it with git"),
    "S37 a notebook with merge-conflict markers": (
        build_one("conflict.ipynb"), ValueError,
        "conflict.ipynb: it is not valid JSON \\(a merge-conflict marker"),
    "S37 an empty .ipynb file": (build_one("empty.ipynb"), ValueError,
                                 "cannot read .*empty.ipynb"),
    "S37 a JSON file that is not a notebook ({})": (
        build_one("dict.ipynb"), ValueError,
        "dict.ipynb: it is not a Jupyter notebook"),
    "S37 a JSON list, not a notebook": (
        build_one("list.ipynb"), ValueError,
        "list.ipynb: it is not a Jupyter notebook"),
    "S37 a notebook file that is not UTF-8": (
        build_one("latin1.ipynb"), ValueError, "latin1.ipynb: it is not UTF-8 text"),
    # S39, S43, S44: the output folder
    "S39 --out a folder holding the teacher's own index.html": (
        lambda f: site.build(f["teacher"], [f["x"]]), ValueError,
        "holds files this site builder did not write \\(index.html\\).*choose a new or empty folder"),
    "S39 --out a folder holding notes and a subfolder": (
        lambda f: site.build(f["notes"], [f["x"]]), ValueError, "did not write \\(notes.txt, sub\\)"),
    "S44 --out '' (would write into the current folder)": (
        lambda f: site.build("", [f["x"]]), ValueError, "output folder is '' \\(empty\\).*--out site"),
    "S44 --out of spaces": (lambda f: site.build("  ", [f["x"]]), ValueError, "name a folder for the site"),
    "S43 --out an existing file": (lambda f: site.build(f["afile"], [f["x"]]), ValueError,
                                   "afile is a file, not a folder: choose a folder"),
    "S43 --out inside a file": (lambda f: site.build(f["afile"] / "sub", [f["x"]]), OSError,
                                "cannot make the folder .*afile/sub.*choose another --out"),
    "S43 out of the wrong type": (lambda f: site.build(42, [f["x"]]), TypeError, "folder path \\(str or Path\\)"),
}


def test_the_site_table_holds_the_second_probes_cases():
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_to_the_site_gets_a_clear_error(case, f):
    assert_clear_error(CASES[case], f)


def test_refused_builds_write_nothing(f):
    """S34, S39: the checks run before any page is written; the teacher's page is untouched."""
    for call, _, _ in CASES.values():
        with pytest.raises((ValueError, TypeError, OSError)):
            call(f)
    assert not f["out"].exists()
    assert (f["teacher"] / "index.html").read_text() == "<h1>the teacher's own course page</h1>"
    assert sorted(p.name for p in f["notes"].iterdir()) == ["notes.txt", "sub"]


def test_a_site_can_be_rebuilt_into_its_own_folder_also_one_built_before_the_marker(tmp_path):
    """S39: the pages carry site.MARKER; a folder of pages written before it existed is recognised too."""
    notebooks = [_notebook(tmp_path / "a.ipynb"), _notebook(tmp_path / "b.ipynb")]
    out = tmp_path / "site"
    files = site.build(out, notebooks)
    assert all(site.MARKER in p.read_text() for p in files)
    for p in files:  # as the builder wrote them before the marker
        p.write_text(p.read_text().replace(site.MARKER, ""))
    (out / ".DS_Store").write_bytes(b"\0")  # macOS Finder showed the folder
    assert [p.name for p in site.build(out, notebooks)] == ["index.html", "a.html", "b.html"]
    (out / "a.html").write_text("<h1>someone else's page</h1>")
    with pytest.raises(ValueError, match="did not write \\(a.html\\)"):
        site.build(out, notebooks)


def test_main_prints_one_error_line_and_exits_non_zero(tmp_path, capsys):
    """S43, S44: --out '' and --out <a file> end in one 'error: ...' line, rc 1."""
    (tmp_path / "afile").write_text("x")
    for out in ("", str(tmp_path / "afile")):
        assert site.main(["--out", out]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


def _page(tmp_path, *cells):
    return site.build(tmp_path / "site", [_notebook(tmp_path / "x.ipynb", *cells)])[1].read_text()


def test_stored_html_outputs_are_sanitised_and_keep_their_styles(tmp_path):
    """S21, S22: a stored text/html output loses <script> and on*= handlers; inline styles stay."""
    view = ("<div style='display:flex;gap:4px'><span style='border-radius:3px;background:#fde2e2' title='t 1'>"
            "MARK-VIEW</span></div>")
    page = _page(tmp_path, _output_cell({"text/html": view + "<b>hi</b><script>alert(1)</script>"
                                                           "<img src=x onerror=alert(2)><a href='javascript:alert(3)'>"
                                                           "l</a><details open ontoggle=alert(4)><summary>s</summary>"
                                                           "</details>", "text/plain": "hi"}))
    assert "alert(" not in page and "onerror" not in page and "ontoggle" not in page
    assert ('<div style="display:flex;gap:4px"><span style="border-radius:3px;background:#fde2e2" title="t 1">'
            "MARK-VIEW</span></div><b>hi</b>") in page


def test_javascript_outputs_are_not_run_and_show_their_text(tmp_path):
    """S23: an application/javascript output is dropped, as in an untrusted notebook; text/plain is shown."""
    page = _page(tmp_path, _output_cell({"application/javascript": "alert('MARK-JS')", "text/plain": "MARK-PLAIN"}))
    assert "MARK-JS" not in page and "MARK-PLAIN" in page and "application/javascript" not in page


def test_an_image_size_that_is_not_a_number_is_dropped(tmp_path):
    """nbconvert writes an image's width unquoted: width '1 onerror=alert(1)' would be a live handler."""
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    page = _page(tmp_path, _output_cell({"image/png": png, "text/plain": "fig"},
                                        {"image/png": {"width": "1 onerror=alert(1)", "height": 20}}))
    assert "onerror" not in page and 'height="20"' in page


REMOTE_HOSTS = ("tracker.example", "cdn.example", "evil.example")


def test_remote_resources_in_outputs_and_markdown_are_removed(tmp_path):
    """S08, S09 (markdown), S28, S41, S42 (outputs): remote images, frames, stylesheets, @import,
    scripts with ' //cdn' or 'https:\\/\\/' sources, and url() in styles do not reach the page."""
    markdown = nbformat.v4.new_markdown_cell("MARK-MD <img src='https://tracker.example/a.png'> "
                                             "![x](https://tracker.example/b.png) ![local](figure.png) "
                                             "<span style='cursor:url(https://tracker.example/c.cur), auto'>c</span>"
                                             " [a link stays](https://example.org/)")
    stored = ("MARK-OUT<iframe src='https://evil.example/'></iframe><img src='https://tracker.example/p.png'>"
              "<img src=' //tracker.example/q.png'><img src='&#x2F;&#x2F;tracker.example/r.png'>"
              "<script src=' //cdn.example/y.js'></script><script src=\"https:\\/\\/cdn.example/z.js\"></script>"
              "<link rel='stylesheet' href='https://cdn.example/x.css'><style>@import url(//cdn.example/y.css);</style>"
              "<div style='color:red;background:url(https://tracker.example/d.png)'>MARK-RED</div>"
              "<div style='background-image:image-set(\"https://tracker.example/e.png\" 1x)'>e</div>")
    page = _page(tmp_path, markdown, _output_cell({"text/html": stored, "text/plain": "x"}))
    assert not [host for host in REMOTE_HOSTS if host in page]
    assert "MARK-MD" in page and "MARK-OUT" in page and 'src="figure.png"' in page
    assert 'href="https://example.org/"' in page and '<div style="color:red;">MARK-RED</div>' in page


def test_strip_remote_parses_the_page_as_a_browser_does():
    """S41, S42: what the regex for nbconvert's CDN scripts misses is found by parsing the page."""
    page = ("<!DOCTYPE html><html><head><script src=' //cdn.example/y.js'></script>"
            "<script src=\"https:\\/\\/cdn.example/z.js\"></script><script src='\\\\cdn.example/w.js'></script>"
            "<link rel=stylesheet href=' https://cdn.example/x.css'><style>@import '//cdn.example/y.css';</style>"
            "<style>@media print { a { background: url(https://tracker.example/m.png) } }</style>"
            "<meta http-equiv=refresh content='0;url=https://evil.example/'><base href='https://evil.example/'>"
            "<script>local()</script><style>.local{color:red}</style></head>"
            "<body background='https://tracker.example/bg.png' onload='alert(1)'>"
            "<img srcset='a.png 1x, https://tracker.example/2x.png 2x'><video poster='//tracker.example/p.png'></video>"
            "<svg><image xlink:href='https://tracker.example/s.png'/></svg><iframe srcdoc='&lt;img src=x&gt;'></iframe>"
            "<p style='color:blue;background:url(//tracker.example/x.png)'>MARK-P</p> tail text"
            "<a href='https://example.org/'>link</a><a href='javascript:alert(2)'>js</a></body></html>")
    clean = site.strip_remote(page)
    assert not [host for host in REMOTE_HOSTS if host in clean]
    assert clean.startswith("<!DOCTYPE html>") and "<script>local()</script>" in clean and ".local{color:red}" in clean
    assert "onload" not in clean and "srcdoc" not in clean and "javascript:" not in clean
    assert "MARK-P</p> tail text" in clean and 'href="https://example.org/"' in clean and "color:blue" in clean


def test_strip_remote_leaves_a_page_with_nothing_remote_as_it_was():
    page = "<!DOCTYPE html>\n<html><head><style>a { color: red }</style></head><body><p class='x'>a &amp; b<br></body>"
    assert site.strip_remote(page) == page


@pytest.mark.parametrize("url, remote", [
    ("https://cdn.example/x.js", True), ("//cdn.example/x.js", True), (" //cdn.example/x.js", True),
    ("https:\\/\\/cdn.example", True), ("\\\\cdn.example/x", True), ("&#x2F;&#x2F;cdn.example", True),
    ("HTTP://cdn", True), ("ja\tvascript:alert(1)", True), ("file:///etc/passwd", True),
    ("figure.png", False), ("./a/b.png", False), ("/abs/on/disk.png", False), ("#anchor", False),
    ("data:image/png;base64,AAAA", False)])
def test_is_remote(url, remote):
    assert site.is_remote(url) is remote
