"""The built website in a browser, with no internet: every page of the table of contents is
served from 127.0.0.1 by a static file server and opened in Debian's Chromium, and any
request to another host is refused and counted as a failure. On every page: no console
errors and no failed requests, the math rendered by MathJax, every image loaded, and no
ipywidgets (which no kernel would drive there: the explorers' live controls replace them,
tested in test_browser_live.py). On every chapter notebook also: its figures as images,
and the Colab button on its own notebook. A full-page screenshot of each page is saved in
screenshots/ for a person to look at.

Skipped without Chromium (see browser_support.py), except under CI=true.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from book_layout import colab_url, notebook_pages, toc_pages
from browser_support import SCREENSHOTS, chromium, is_local, require_browser, static_server

PAGES = toc_pages()
NOTEBOOK_PAGES = notebook_pages()  # the chapters that run code: figures, Colab button

# Text left in the page outside code once MathJax has run: TeX delimiters mean math that was
# not rendered.
RAW_TEX = ("\\(", "\\)", "\\[", "\\]", "$$", "\\begin{")


@dataclass
class PageReport:
    """What one visit of a page saw."""

    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def site(request) -> Path:
    require_browser()  # before the build, which takes a minute or two
    return request.getfixturevalue("built_site")


@pytest.fixture(scope="module")
def browser(site) -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def visit(site, browser) -> Iterator[Any]:
    """``visit(page)`` opens the page once (later calls reuse the report)."""
    reports: dict[str, PageReport] = {}
    with static_server(site) as base_url:
        context = browser.new_context(viewport={"width": 1280, "height": 900})

        def visit_page(page_name: str) -> PageReport:
            if page_name not in reports:
                reports[page_name] = _visit(context, base_url, page_name)
            return reports[page_name]

        yield visit_page
        context.close()


# Runs in the page once it has loaded and MathJax has typeset.
FACTS_JS = """() => {
    const article = document.querySelector('article') || document.querySelector('main');
    const text = article.cloneNode(true);
    text.querySelectorAll('pre, code, script, style, mjx-container, .highlight').forEach(e => e.remove());
    const images = [...article.querySelectorAll('img')].map(image => ({
        src: image.getAttribute('src'), complete: image.complete,
        width: image.naturalWidth, height: image.naturalHeight}));
    const visible = element => {
        const box = element.getBoundingClientRect();
        return box.width > 0 && box.height > 0 && getComputedStyle(element).visibility !== 'hidden';
    };
    return {
        text: text.textContent,
        math: article.querySelectorAll('.math').length,
        unrendered_math: [...article.querySelectorAll('.math')]
            .filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80)),
        mathjax: article.querySelectorAll('mjx-container').length,
        math_errors: [...article.querySelectorAll('mjx-merror')].map(e => e.textContent),
        images: images,
        colab_links: [...document.querySelectorAll('a[href^="https://colab.research.google.com"]')].map(a => a.href),
        ipywidgets: document.querySelectorAll(
            "script[type^='application/vnd.jupyter.widget'], .jupyter-widgets, .widget-subarea").length,
        explorers: document.querySelectorAll('.optim-live').length,
    };
}"""

# Resolves once MathJax (if the page loads it) has typeset the page.
MATHJAX_DONE_JS = """async () => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
    return true;
}"""


def _visit(context: Any, base_url: str, page_name: str) -> PageReport:
    report = PageReport()
    page = context.new_page()
    page.on("console", lambda message: message.type == "error" and report.console_errors.append(
        f"{message.text} ({message.location.get('url', '')})"))
    page.on("pageerror", lambda error: report.console_errors.append(f"uncaught: {error}"))
    page.on("requestfailed", lambda request: report.failed_requests.append(f"{request.url}: {request.failure}"))
    page.on("response", lambda response: response.status >= 400 and report.failed_requests.append(
        f"{response.url}: HTTP {response.status}"))
    # Offline: refuse (and note) every request that would leave 127.0.0.1.
    page.route(lambda url: not is_local(url), lambda route: (
        report.foreign_requests.append(route.request.url), route.abort()))
    page.goto(f"{base_url}{page_name}.html", wait_until="load")
    page.evaluate(MATHJAX_DONE_JS)
    page.wait_for_load_state("networkidle")
    report.facts = page.evaluate(FACTS_JS)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{page_name.replace('/', '__')}.png"), full_page=True)
    page.close()
    return report


@pytest.mark.parametrize("page", PAGES)
def test_page_has_no_console_errors(visit, page):
    assert visit(page).console_errors == []


@pytest.mark.parametrize("page", PAGES)
def test_page_has_no_failed_requests(visit, page):
    assert visit(page).failed_requests == []


@pytest.mark.parametrize("page", PAGES)
def test_page_requests_nothing_from_other_hosts(visit, page):
    assert visit(page).foreign_requests == []


@pytest.mark.parametrize("page", PAGES)
def test_page_math_is_rendered_by_mathjax(visit, page):
    facts = visit(page).facts
    assert facts["mathjax"] >= facts["math"], "fewer MathJax outputs than formulas"
    assert facts["unrendered_math"] == []
    assert facts["math_errors"] == []
    left = [delimiter for delimiter in RAW_TEX if delimiter in facts["text"]]
    assert left == [], f"raw TeX left in the text: {left}"


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_chapter_has_math(visit, page):
    assert visit(page).facts["mathjax"] > 0


@pytest.mark.parametrize("page", PAGES)
def test_every_image_loaded(visit, page):
    broken = [image["src"][:100] for image in visit(page).facts["images"]
              if not (image["complete"] and image["width"] > 0 and image["height"] > 0)]
    assert broken == []


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_chapter_has_its_figures_as_images(visit, page):
    figures = [image for image in visit(page).facts["images"]
               if "_images/" in image["src"] or image["src"].startswith("data:image/")]
    assert figures, "no figure on the page"


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_colab_link_opens_this_pages_notebook(visit, page):
    assert visit(page).facts["colab_links"] == [colab_url(page)]


@pytest.mark.parametrize("page", PAGES)
def test_no_page_shows_ipywidgets_that_no_kernel_drives(visit, page):
    assert visit(page).facts["ipywidgets"] == 0


def test_the_chapters_have_explorers(visit):
    assert sum(visit(page).facts["explorers"] for page in NOTEBOOK_PAGES) >= 15


def test_a_page_works_from_file_urls(site, browser):
    """Opened straight from the disk (file://, no server), a page with math and explorers
    still renders the math and the static figures: no script tag carries crossorigin, which
    file:// refuses, and the explorers' script is a classic one."""
    pages_with_explorers = [page for page in NOTEBOOK_PAGES if 'class="optim-live"' in (site / f"{page}.html").read_text()]
    assert pages_with_explorers, "no page has explorers"
    page_name = pages_with_explorers[0]
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto((site / f"{page_name}.html").as_uri(), wait_until="load")
    page.evaluate(MATHJAX_DONE_JS)
    assert page.locator("mjx-container").count() > 0
    assert all(image.evaluate("i => i.complete && i.naturalWidth > 0") for image in page.locator("article img").all())
    assert errors == []
    page.close()
