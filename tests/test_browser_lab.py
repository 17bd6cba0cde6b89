"""The live sliders, in JupyterLab, as a person uses them: open a chapter notebook, run all
cells from the menu, move a slider with the keyboard and with the mouse, and see the figure
change. JupyterLab runs on 127.0.0.1 with no token in a temporary folder, and is stopped
at the end; Chromium is Debian's (see browser_support.py; skipped without it, except under
CI=true)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from browser_support import REPO, SCREENSHOTS, LabNotebook, chromium, is_local, jupyterlab, require_browser

NOTEBOOK = REPO / "chapters" / "04_adagrad.ipynb"
STEPS = "steps"  # the trajectory explorer's slider for the number of steps
LEARNING_RATE = "lr"


@dataclass
class LabRun:
    notebook: LabNotebook
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def lab(request) -> Iterator[LabRun]:
    require_browser()
    request.getfixturevalue("airfoil_path")  # the notebook's loss curves need the data
    with jupyterlab([NOTEBOOK]) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        run = LabRun(notebook=None)  # type: ignore[arg-type]
        page.on("console", lambda message: message.type == "error" and run.console_errors.append(message.text))
        page.on("pageerror", lambda error: run.console_errors.append(str(error)))
        # Nothing may leave the machine: note and refuse every request to another host.
        page.route(lambda address: not is_local(address), lambda route: (
            run.foreign_requests.append(route.request.url), route.abort()))
        run.notebook = LabNotebook(page, url, NOTEBOOK.name)
        run.notebook.run_all()
        yield run
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"lab_{NOTEBOOK.stem}.png"))


def _image_src(figure: Any) -> str:
    src = figure.get_attribute("src")
    assert src and src.startswith("data:image/png;base64,"), f"the figure is not a PNG: {src[:80]!r}"
    assert len(base64.b64decode(src.split(",", 1)[1])) > 1000
    return src


def _wait_for_new_figure(notebook: LabNotebook, cell: Any, before: str) -> str:
    notebook.page.wait_for_function(
        """([cell, before]) => {
            const images = cell.querySelectorAll('.jp-OutputArea-output img');
            const image = images[images.length - 1];
            return image && image.complete && image.naturalWidth > 0 && image.src !== before;
        }""",
        arg=[cell.element_handle(), before],
        timeout=30_000,
    )
    notebook.wait_for_idle_kernel()
    return _image_src(notebook.figure(cell))


def test_running_all_cells_shows_no_error_output(lab):
    assert lab.notebook.error_outputs() == []


def test_every_explorer_shows_its_sliders_and_figure(lab):
    cell = lab.notebook.explorer_cell(STEPS)
    assert cell.locator(".widget-slider").count() >= 2
    _image_src(lab.notebook.figure(cell))


def test_pressing_arrow_keys_on_a_slider_redraws_the_figure(lab):
    notebook = lab.notebook
    cell = notebook.explorer_cell(STEPS)
    handle = notebook.slider_handle(cell, STEPS)
    before_value = handle.get_attribute("aria-valuenow")
    before = _image_src(notebook.figure(cell))
    handle.focus()
    for _ in range(3):
        notebook.page.keyboard.press("ArrowRight")
    after = _wait_for_new_figure(notebook, cell, before)
    assert float(handle.get_attribute("aria-valuenow")) == float(before_value) + 3
    assert after != before
    assert notebook.error_outputs() == []
    assert "cannot run" not in cell.inner_text()


def test_dragging_a_slider_with_the_mouse_redraws_the_figure(lab):
    notebook = lab.notebook
    cell = notebook.explorer_cell(STEPS)
    handle = notebook.slider_handle(cell, LEARNING_RATE)
    before_value = handle.get_attribute("aria-valuenow")
    before = _image_src(notebook.figure(cell))
    box = handle.bounding_box()
    assert box, "the lr slider's handle is not visible"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    mouse = notebook.page.mouse
    mouse.move(x, y)
    mouse.down()
    mouse.move(x - 30, y, steps=5)
    mouse.up()
    after = _wait_for_new_figure(notebook, cell, before)
    assert float(handle.get_attribute("aria-valuenow")) < float(before_value)
    assert after != before
    assert notebook.error_outputs() == []


def test_jupyterlab_page_has_no_console_errors(lab):
    assert lab.console_errors == []


def test_jupyterlab_page_requests_nothing_from_other_hosts(lab):
    assert lab.foreign_requests == []
