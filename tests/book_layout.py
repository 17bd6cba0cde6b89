"""What the book consists of, read from _toc.yml and _config.yml (shared by the tests)."""

from __future__ import annotations

import subprocess
import sys
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


def build_book(out: Path) -> Path:
    """Build the book into ``out`` with warnings as errors; return the HTML folder."""
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(REPO),
               "--path-output", str(out), "-W", "-n", "--keep-going"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, f"book build failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    return out / "_build" / "html"
