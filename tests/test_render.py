from helpers.render import HtmlView, box, chip, content_id, esc


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
