import re

import pytest

from helpers.render import HtmlView, box, chip, content_id, esc, table


def test_esc_escapes_quotes_and_tags():
    assert esc("<a href='x'>&\"") == "&lt;a href=&#x27;x&#x27;&gt;&amp;&quot;"


def test_content_id_is_stable_and_content_dependent():
    assert content_id("a", 1) == content_id("a", 1)
    assert content_id("a", 1) != content_id("a", 2)
    assert content_id("a").startswith("llmlab-")


def test_chip_and_box_escape_their_text():
    html = box(chip("<img src=x onerror=alert(1)>", "<1>"), title="<t>")
    assert "<img" not in html and "&lt;img" in html and "&lt;t&gt;" in html


def test_html_view_has_html_and_plain_text():
    view = HtmlView("<b>x</b>", "x")
    assert view._repr_html_() == "<b>x</b>" and repr(view) == "x" and str(view) == "x"


def test_table_escapes_cells_header_and_caption():
    html = table(["<th>", "n"], [["<script>x</script>", "1 & 2"]], caption="\"q\" <b>", element_id="t'1")
    assert "<script>" not in html and "&lt;script&gt;" in html and "1 &amp; 2" in html
    assert "&lt;th&gt;" in html and "&quot;q&quot; &lt;b&gt;" in html and "id='t&#x27;1'" in html
    assert "&amp;lt;" not in html and "&amp;amp;" not in html  # escaped once, not twice


def test_table_aligns_labels_left_and_numbers_right_and_bolds_the_total_row():
    html = table(["run", "loss"], [["a", "1.00"], ["mean", "0.50"]], bold_last_row=True)
    cells = re.findall(r"<td style='([^']*)'>([^<]*)</td>", html)
    assert [c for _, c in cells] == ["a", "1.00", "mean", "0.50"]
    assert "text-align:left" in cells[0][0] and "text-align:right" in cells[1][0]
    assert "font-weight:600" not in cells[0][0] and all("font-weight:600" in s for s, _ in cells[2:])


def test_table_refuses_rows_that_do_not_fit_the_header():
    with pytest.raises(ValueError, match=r"row 1 has 1 cells but the header has 2 columns \(a, b\)"):
        table(["a", "b"], [["1", "2"], ["only one"]])
    with pytest.raises(ValueError, match="align='lc' for 2 columns: give one 'l' .* per column, e.g. 'lr'"):
        table(["a", "b"], [["1", "2"]], align="lc")
