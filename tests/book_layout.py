"""What the book consists of, read from _toc.yml and _config.yml (shared by the tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((REPO / "_config.yml").read_text())


def toc_pages(toc_file: Path = REPO / "_toc.yml") -> list[str]:
    """Every page of the table of contents (root, chapters, parts, sections), in order."""
    toc = yaml.safe_load(toc_file.read_text())
    pages = [toc["root"]]

    def walk(entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            if "file" in entry:
                pages.append(entry["file"])
            for key in ("chapters", "sections"):
                walk(entry.get(key, []))

    walk(toc.get("parts", []))
    walk(toc.get("chapters", []))
    return [page.removesuffix(".ipynb").removesuffix(".md") for page in pages]


def notebook_pages() -> list[str]:
    """The pages of the table of contents that are notebooks (the chapters that run code)."""
    return [page for page in toc_pages() if (REPO / f"{page}.ipynb").exists()]


def colab_url(page: str) -> str:
    """The Colab launch link Jupyter Book makes for a notebook page, from _config.yml."""
    repository = CONFIG["repository"]
    owner_repo = repository["url"].removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{repository['branch']}/{page}.ipynb"
