"""Every notebook run in a real JupyterLab in headless Chromium, as a teacher runs it in class.

nbval executes the notebooks without a front end; it cannot see a widget that fails to render or a
playground whose control does nothing. These tests open each notebook (a copy: JupyterLab saves
what it runs), run all cells, check that no cell shows an error, that no widget fails to display
and no figure lacks Chinese glyphs, compare the outputs with the stored ones by nbval's rules
(tests/stored_outputs.py; this run replaces nbval's own execution of the notebook, see
conftest.py), then use each playground once and check that what it shows changes. A screenshot
of each notebook is written to tests/screenshots/ (git-ignored), and the measured times to
tests/screenshots/browser_timings.json (read by `make bench`).

Without Chromium they skip with one line saying how to install it; with LLM_LAB_REQUIRE_BROWSER=1
(set by .ci/run) a missing Chromium is a failure instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from browser import INSTALL_HINT, Browser, JupyterLab, cell_outputs, chromium_path, errors, run_all_cells, shut_down
from stored_outputs import differences

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "tests" / "screenshots"
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def browser():
    if chromium_path() is None:
        if os.environ.get("LLM_LAB_REQUIRE_BROWSER") == "1":
            pytest.fail(INSTALL_HINT + " (LLM_LAB_REQUIRE_BROWSER=1: CI must run the browser tests)")
        pytest.skip(INSTALL_HINT)
    with Browser() as b:
        yield b
    assert not b.outside_requests, f"the browser tried to reach the network: {b.outside_requests[:5]}"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notebooks")
    for name in NOTEBOOKS:
        shutil.copy(ROOT / "notebooks" / name, folder / name)
    with JupyterLab(folder) as server:
        yield server
    SHOTS.mkdir(exist_ok=True)
    (SHOTS / "browser_timings.json").write_text(json.dumps(TIMINGS, indent=1))


def output_with(page, text: str):
    """The output area of the cell whose output contains `text` (a playground's title)."""
    return page.locator(".jp-OutputArea-output", has_text=text).first


def screenshot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{Path(name).stem}.png"), full_page=False)


def timed(label: str, seconds: float) -> float:
    TIMINGS[label] = round(seconds, 4)
    return seconds


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_clean_in_jupyterlab(browser, lab, name):
    page = browser.open_notebook(lab, name)
    try:
        timed(f"{name} run all", run_all_cells(page))
        assert errors(page) == []
        # This run is also the nbval check (conftest.py leaves nbval's own run of this notebook out).
        changed = differences(json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8")), cell_outputs(page))
        assert changed == [], (f"{name}: outputs differ from the stored notebook, by nbval's rules (if the change "
                               f"is meant, run `make notebooks` and commit):\n" + "\n".join(changed))
        widgets = page.locator(".jp-OutputArea-output .widget-box")
        playgrounds = PLAYGROUNDS.get(name.split("_")[0], ())
        if playgrounds:
            assert widgets.count() >= 2, "a playground rendered no controls"
            assert "run this cell in JupyterLab" not in page.locator(".jp-Notebook").inner_text()
        for check in playgrounds:
            check(page)
        assert errors(page) == []
        screenshot(page, name)  # after the interactions: the last playground used is in view
    finally:
        shut_down(page)


def check_tokenizer_playground(page) -> None:
    box = output_with(page, "Tokenizer playground")
    box.scroll_into_view_if_needed()
    view = box.locator(".widget-html").last
    before = view.inner_html()
    count_before = view.inner_text()
    textarea = box.locator("textarea")
    textarea.click()
    textarea.press("End")
    seconds = _until_changed(page, view, before, lambda: page.keyboard.type("鸟"))
    timed("tokenizer playground: key to redraw", seconds)
    assert "鸟" in view.inner_text() and view.inner_text() != count_before


def check_similarity_playground(page) -> None:
    box = output_with(page, "Similarity playground")
    box.scroll_into_view_if_needed()
    image = box.locator("img")
    src_before = image.get_attribute("src")
    textarea = box.locator("textarea")
    textarea.click()
    textarea.press("Control+End")
    page.keyboard.type("\nThe weather is lovely today.")

    def blur():
        textarea.press("Tab")  # the heatmap redraws when the box loses focus

    seconds = _until(page, "([el, before]) => el.getAttribute('src') !== before",
                     [image.element_handle(), src_before], blur)
    timed("similarity playground: edit to new heatmap", seconds)


def check_generation_stepper(page) -> None:
    box = output_with(page, "Generation stepper")
    box.scroll_into_view_if_needed()
    text_view = box.locator(".widget-html").nth(1)
    before = text_view.inner_html()
    chips_before = text_view.locator("span[title]").count()
    button = box.get_by_role("button", name="next token")
    seconds = _until_changed(page, text_view, before, button.click)
    timed("generation stepper: next token to new chip", seconds)
    assert text_view.locator("span[title]").count() == chips_before + 1


def check_sampling_playground(page) -> None:
    box = output_with(page, "Sampling playground")
    box.scroll_into_view_if_needed()
    view = box.locator(".widget-html").last
    before = view.inner_html()
    handle = box.locator(".widget-slider .noUi-handle").first  # the temperature slider
    handle.click()
    seconds = _until_changed(page, view, before, lambda: page.keyboard.press("ArrowLeft"))
    timed("sampling playground: slider to redraw", seconds)


def check_attention_explorer(page) -> None:
    box = output_with(page, "Attention explorer")
    box.scroll_into_view_if_needed()
    view = box.locator(".widget-html").last
    before = view.inner_html()
    assert "head 0 (KV head 0)" in view.inner_text()
    handle = box.locator(".widget-slider .noUi-handle").nth(1)  # the head slider
    handle.click()
    seconds = _until_changed(page, view, before, lambda: page.keyboard.press("ArrowRight"))
    timed("attention explorer: head slider to redraw", seconds)
    assert "head 1 (KV head 0)" in view.inner_text() and "softmax weight" in view.inner_text()


# The playgrounds each notebook must show working, by the notebook's chapter (the name up to the first "_").
PLAYGROUNDS = {"ch02": (check_tokenizer_playground, check_similarity_playground),
               "ch03": (check_generation_stepper, check_sampling_playground),
               "ch03b": (check_attention_explorer,)}


def _until_changed(page, locator, before: str, action) -> float:
    return _until(page, "([el, before]) => el.innerHTML !== before", [locator.element_handle(), before], action)


def _until(page, predicate: str, arg, action, timeout_s: float = 20) -> float:
    import time

    start = time.perf_counter()
    action()
    page.wait_for_function(predicate, arg=arg, timeout=timeout_s * 1000, polling="raf")
    return time.perf_counter() - start


def test_static_site_opens_from_disk_with_its_figures_and_no_network(browser, tmp_path):
    from helpers import site

    files = site.build(tmp_path / "site")
    page = browser.context.new_page()
    shown = 0
    try:
        for f in files:
            page.goto(f.as_uri())
            page.wait_for_load_state("load")
            assert page.title(), f.name
            if f.name == "index.html":
                assert page.locator("li a").count() == len(files) - 1
                continue
            figures = len(re.findall(r"<img[^>]*src=\"data:image/png;base64", f.read_text(encoding="utf-8")))
            assert page.locator(".jp-OutputArea-output img").count() == figures, f"{f.name}: figures missing"
            shown += figures
            broken = page.evaluate("() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))"
                                   ".map(i => i.src.slice(0, 60))")
            assert broken == [], f"{f.name}: figures that did not load: {broken}"
    finally:
        page.close()
    assert shown >= 10, "the chapters' figures should be on their pages"
    assert browser.outside_requests == []
