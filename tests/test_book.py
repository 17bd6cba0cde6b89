"""The website: `jupyter-book build -W -n --keep-going` (warnings are errors) passes, and every
chapter page has its figures as ordinary images and a Colab launch link to its notebook."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from book_layout import colab_url, notebook_pages

PAGES = notebook_pages()


@pytest.fixture(scope="module")
def site(built_site) -> Path:
    return built_site


def test_book_builds_without_warnings(site):
    assert (site / "index.html").exists()


@pytest.mark.parametrize("page", PAGES)
def test_every_chapter_page_has_static_figures(site, page):
    html = (site / f"{page}.html").read_text()
    images = re.findall(r'<img[^>]+src="([^"]+)"', html)
    figures = [src for src in images if "_images/" in src or src.startswith("data:image/png")]
    assert figures, f"{page}: no figure rendered as an image"
    for src in figures:
        if not src.startswith("data:"):
            assert (site / page).parent.joinpath(src).resolve().stat().st_size > 0


@pytest.mark.parametrize("page", PAGES)
def test_every_chapter_page_launches_its_own_notebook_in_colab(site, page):
    html = (site / f"{page}.html").read_text()
    assert colab_url(page) in html
