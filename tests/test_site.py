import nbformat
import pytest

from helpers import site


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    return out, site.build(out)


def test_one_page_per_notebook_and_an_index_in_chapter_order(built):
    out, files = built
    assert [f.name for f in files] == ["index.html", "ch01_generating_text.html", "ch02_tokens_and_embeddings.html",
                                       "ch03_inside_llms.html", "ch12a_lora_and_qlora.html",
                                       "ch12b_fine_tuning.html"]
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
