"""The course website: built from the notebooks, then each chapter page loaded in headless Chromium.

The browser tests check the students' edition, the one `make site` publishes: no solution text on any
page. The instructors' edition differs only in its book sources, which the unit tests below check.

The browser tests carry the `site` marker: pytest runs them after the notebooks (conftest.py), so the
site shows the outputs of that very run. Run alone they execute every notebook first (slow).
"""
from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest

from mtl_course import course, site

NOTEBOOKS = course.notebook_paths()
SCREENSHOTS = site.BUILD / "screenshots"


def solution_text(nb: dict) -> list[str]:
    """The code lines of a notebook's solutions that nothing else in the notebook shows."""
    others = "\n".join(course.source(c) for c in nb["cells"] if course.BEGIN not in course.source(c))
    lines = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and course.BEGIN in course.source(cell):
            body = course.source(cell).split(course.BEGIN)[1].split(course.END)[0]
            code = (line.split("  #")[0].strip() for line in body.splitlines())
            lines += [line for line in code if line and not line.startswith("#") and line not in others]
    return lines


@pytest.mark.parametrize("edition", site.EDITIONS)
def test_toc_lists_every_chapter_in_order_and_the_guide_for_instructors_only(edition):
    toc = site.toc(NOTEBOOKS, edition)
    positions = [toc.index(f"file: {p.stem}\n") for p in NOTEBOOKS]
    assert positions == sorted(positions)
    assert ("file: instructors" in toc) is (edition == "instructors")
    assert all(f"file: {name}\n" in toc for name in site.REFERENCE)  # glossary, bibliography, pitfalls: both editions


def test_help_prints_usage_and_builds_nothing(monkeypatch, capsys):
    monkeypatch.setattr(site, "build", lambda *a, **k: pytest.fail("--help started a build"))
    with pytest.raises(SystemExit) as exit_:
        site.main(["--help"])
    assert exit_.value.code == 0 and "usage: python -m mtl_course.site" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        site.main(["--bogus"])
    assert exit_.value.code == 2


def test_a_folder_the_site_did_not_make_is_refused_before_any_work_and_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(site, "BOOK", tmp_path / "book")
    monkeypatch.setattr(site, "SITE", tmp_path / "site")
    monkeypatch.setattr(site, "executed", lambda path: pytest.fail("executed a notebook before refusing"))
    notes = tmp_path / "site" / "my notes.txt"
    notes.parent.mkdir()
    notes.write_text("mine")
    with pytest.raises(site.SiteError, match=r"site exists and was not made by .* will not delete it"):
        site.build(NOTEBOOKS[:1])
    assert notes.read_text() == "mine" and not (tmp_path / "book").exists()


def test_a_folder_the_site_made_is_replaced(tmp_path):
    folder = site.fresh_folder(tmp_path / "book")
    (folder / "old.ipynb").write_text("{}")
    site.fresh_folder(folder)
    assert sorted(p.name for p in folder.iterdir()) == [site.MARK]


def test_students_copy_of_a_run_shows_the_stub_and_no_verdict(tmp_path):
    ran = {"cells": [
        {"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": [{"output_type": "stream", "text": "1"}]},
        {"cell_type": "code", "source": f"def f():\n    {course.BEGIN}\n    return 42\n    {course.END}",
         "metadata": {}, "outputs": [{"output_type": "stream", "text": "solved"}]},
        {"cell_type": "code", "source": "assert check_f(f)", "metadata": {},
         "outputs": [{"output_type": "stream", "text": "✅ correct"}]}]}
    cells = site.for_students(ran)["cells"]
    assert "raise NotImplementedError()" in course.source(cells[1]) and "return 42" not in course.source(cells[1])
    assert [len(c["outputs"]) for c in cells] == [1, 0, 0]


@pytest.mark.parametrize("edition", site.EDITIONS)
def test_students_book_has_no_solution_text_and_the_instructors_book_has_it_all(tmp_path, monkeypatch, edition):
    """Both editions' sources for every notebook (the notebooks stand in for their runs: no outputs needed)."""
    monkeypatch.setattr(site, "BOOK", tmp_path / "book")
    monkeypatch.setattr(site, "executed", course.load)
    book = site.write_book(NOTEBOOKS, edition)
    assert book == tmp_path / ("book" if edition == "students" else "book-instructors")
    assert (book / "instructors.md").exists() is (edition == "instructors")
    assert all((book / f"{name}.md").read_text() == (course.NOTEBOOKS / f"{name}.md").read_text() for name in site.REFERENCE)
    for path in NOTEBOOKS:
        text = (book / path.name).read_text()
        shown = [line for line in solution_text(course.load(path)) if json.dumps(line, ensure_ascii=False)[1:-1] in text]
        if edition == "students":
            assert not shown, f"{path.name}: the students' book shows solution lines {shown}"
            assert "raise NotImplementedError()" in text
        else:
            assert shown == solution_text(course.load(path))


def test_config_builds_offline_with_colab_launch_links():
    config = site.config("https://github.com/o/r")
    assert 'execute_notebooks: "off"' in config  # outputs come from the test run, not a second run
    assert "colab_url: https://colab.research.google.com" in config and "url: https://github.com/o/r" in config
    assert "sphinx-mathjax-offline" in config  # math renders without a CDN


def test_web_copy_folds_solutions_setup_and_claims_and_drops_progress_widgets():
    nb = {"cells": [
        {"cell_type": "code", "source": "setup", "metadata": {}, "outputs": []},
        {"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": [
            {"output_type": "display_data", "data": {site.WIDGET: {}, "text/plain": "0%"}},
            {"output_type": "stream", "name": "stdout", "text": "kept"}]},
        {"cell_type": "code", "source": f"def f():\n    {course.BEGIN}\n    return 1\n    {course.END}",
         "metadata": {}, "outputs": []},
        {"cell_type": "code", "source": 'mc.claim("a", True, "m")', "metadata": {"tags": [course.CLAIM]},
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "✔ a: m"}]}]}
    cells = site.for_the_web(nb)["cells"]
    assert [("hide-input" in c["metadata"]["tags"]) for c in cells] == [True, False, True, True]
    assert cells[3]["outputs"][0]["text"] == "✔ a: m"  # the code folds, the verdict stays
    assert cells[1]["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "kept"}]


@pytest.mark.parametrize("edition", site.EDITIONS)
def test_intro_has_one_line_per_chapter_and_links_the_guide_for_instructors(edition):
    notebooks = [(p, course.load(p)) for p in NOTEBOOKS]
    intro = site.intro(notebooks, edition)
    for path, nb in notebooks:
        assert f"]({path.stem}.ipynb): " in intro and site.title(nb) in intro
    assert ("instructors.md" in intro) is (edition == "instructors")


def test_stale_outputs_are_not_shown(tmp_path, monkeypatch):
    """An executed copy whose code differs from the notebook's is not used (it would show old results)."""
    nb = course.load(NOTEBOOKS[0])
    stale = course.load(NOTEBOOKS[0])
    next(c for c in stale["cells"] if c["cell_type"] == "code")["source"] = "print('old code')"
    assert site.same_code(nb, nb) and not site.same_code(nb, stale)


def test_kept_outputs_are_shown_with_todays_prose(tmp_path, monkeypatch):
    """A kept run with the same code lends its outputs; the markdown comes from the notebook as it is now."""
    nb = {"cells": [{"cell_type": "markdown", "source": "# New prose", "metadata": {}},
                    {"cell_type": "code", "source": "print(1)", "metadata": {}, "outputs": [], "execution_count": None}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    ran = json.loads(json.dumps(nb))
    ran["cells"][0]["source"] = "# Old prose"
    ran["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    ran["cells"][1]["execution_count"] = 1
    course.save(nb, tmp_path / "nb" / "00_x.ipynb")
    course.save(ran, tmp_path / "kept" / "00_x.ipynb")
    monkeypatch.setattr(site, "EXECUTED", tmp_path / "kept")
    shown = site.executed(tmp_path / "nb" / "00_x.ipynb")
    assert shown["cells"][0]["source"] == "# New prose"
    assert shown["cells"][1]["outputs"] == ran["cells"][1]["outputs"]


def test_student_copy_up_to_first_stub_ends_at_the_stub_and_keeps_everything_before():
    for path in NOTEBOOKS:
        nb = course.load(path)
        cut = course.until_first_stub(nb)
        first = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and course.BEGIN in course.source(c))
        assert len(cut["cells"]) == first + 1
        assert [course.source(c) for c in cut["cells"][:first]] == [course.source(c) for c in nb["cells"][:first]]
        assert "raise NotImplementedError()" in course.source(cut["cells"][-1])
        assert course.BEGIN not in "".join(course.source(c) for c in cut["cells"] if c["cell_type"] == "code")


# --- the built site in a real browser --------------------------------------------------------------

def _chromium() -> tuple[str, str] | None:
    """Paths of Chromium and its WebDriver, if both are installed."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture(scope="module")
def built_site():
    start = time.perf_counter()
    html = site.build()
    print(f"\nsite built in {time.perf_counter() - start:.1f} s: {html / 'index.html'}")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(html))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    found = _chromium()
    if found is None:
        message = "Chromium and chromedriver are not installed (make test installs them as root on Debian)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    profile = tempfile.mkdtemp(prefix="mtl-course-chromium-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 "--window-size=1280,1600", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=found[1]))
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.site
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_chapter_page_shows_title_figures_math_and_no_errors(built_site, browser, path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    nb = course.load(path)
    browser.get(f"{built_site}/{path.stem}.html")
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
    headings = browser.execute_script("return [...document.querySelectorAll('main h1')].map(h => h.textContent)")
    assert any(site.title(nb) in h for h in headings), headings
    figures = browser.execute_script(
        "return [...document.images].filter(i => i.src.includes('/_images/') && i.complete"
        " && i.naturalWidth > 0).length")
    assert figures >= 1, "no figure was drawn on the page"
    errors = browser.find_elements(By.CSS_SELECTOR, ".output.traceback, .output.error, .cell_output .stderr")
    assert not errors, f"error output on the page: {errors[0].text[:300]}"
    colab = browser.find_elements(By.CSS_SELECTOR, f"a[href*='colab.research.google.com/github/'][href$='{path.name}']")
    assert colab, "no Open in Colab link"
    if "$" in "".join(course.source(c) for c in nb["cells"] if c["cell_type"] == "markdown"):
        WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "mjx-container"),
                                         "the page's math was not typeset (MathJax)")
    text = browser.execute_script("return document.body.textContent")  # folded cells included
    assert "raise NotImplementedError()" in text, "the page shows no exercise stub"
    leaked = [line for line in solution_text(nb) if line in text]
    assert not leaked, f"the students' page shows solution text: {leaked}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{path.stem}.png"))


@pytest.mark.site
def test_site_shows_the_notebook_runs_of_this_test_session_without_executing_them_again(
        built_site, notebooks_kept_this_run):
    again = sorted(set(site.executed_here) & notebooks_kept_this_run)
    assert not again, f"the site executed {again} a second time instead of reusing this run's outputs"


@pytest.mark.site
def test_front_page_links_every_chapter_and_not_the_instructors_guide(built_site, browser):
    from selenium.webdriver.common.by import By

    browser.get(f"{built_site}/index.html")
    hrefs = {a.get_attribute("href").split("/")[-1].split("#")[0]
             for a in browser.find_elements(By.CSS_SELECTOR, "main a[href]")}
    missing = [p.stem for p in NOTEBOOKS if f"{p.stem}.html" not in hrefs]
    assert not missing, f"front page lacks links to {missing}"
    assert "instructors.html" not in hrefs  # the students' edition: the guide holds the answers
