"""How long a slider move takes as a person sees it: key press on a slider in JupyterLab to the
new figure in the page.

Run from the repository root (needs Chromium: `apt-get install chromium`)::

    .venv/bin/python benchmarks/bench_browser.py

It starts JupyterLab on 127.0.0.1 with a copy of chapters/04_adagrad.ipynb, runs all cells
from the menu, focuses a slider's handle and presses an arrow key (right, then left, ...),
EVENTS times. The page itself times each event, from the key press (the keydown event's
time stamp) to the new PNG being in the page, decoded, at the next frame: the browser sending the change,
the kernel re-running and redrawing, the PNG coming back, JupyterLab replacing the image.
Compare benchmarks/bench_sliders.py, the kernel's share alone.
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from browser_support import CHROMIUM, ENABLE_HINT, LabNotebook, chromium, jupyterlab  # noqa: E402

EVENTS = 20
TARGET_MS = 150.0
NOTEBOOK = REPO / "chapters" / "04_adagrad.ipynb"
SHARED_AIRFOIL = REPO.parent / "shared" / "data" / "airfoil_self_noise.dat"
SLIDERS = (
    # (what, slider label, keys pressed in turn)
    ("(a) trajectory explorer, steps slider", "steps", ("ArrowRight", "ArrowLeft")),
    ("(b) loss-curve explorer, batch-size slider", "batch size", ("ArrowLeft", "ArrowRight")),
)

# Arms a one-shot timer in the page: keydown time stamp -> the cell's last image has a new
# src, is decoded, and the next frame starts.
ARM_JS = """(cell) => {
    const last = () => { const images = cell.querySelectorAll('.jp-OutputArea-output img');
                         return images[images.length - 1]; };
    const before = last().src;
    window.__sliderLatency = new Promise((resolve, reject) => {
        let input = null;
        const onKey = event => { if (input === null) input = event.timeStamp; };
        document.addEventListener('keydown', onKey, {capture: true});
        const observer = new MutationObserver(() => {
            const image = last();
            if (input === null || !image || image.src === before) return;
            observer.disconnect();
            document.removeEventListener('keydown', onKey, {capture: true});
            const inPage = performance.now() - input;
            // Decoded, then the next frame: the moment it can be on the screen.
            image.decode().then(() => requestAnimationFrame(
                () => resolve({inPage, shown: performance.now() - input})), reject);
        });
        observer.observe(cell, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
        setTimeout(() => reject(new Error('no new figure within 30 s')), 30000);
    });
}"""


def measure(notebook: LabNotebook, label: str, keys: tuple[str, ...]) -> list[float]:
    """Latencies (ms, key press to new figure shown) of EVENTS presses, after one warm-up."""
    cell = notebook.explorer_cell(label)
    handle = notebook.slider_handle(cell, label)
    page = notebook.page
    latencies = []
    for i in range(EVENTS + 1):
        handle.focus()
        page.evaluate(ARM_JS, cell.element_handle())
        page.keyboard.press(keys[i % len(keys)])
        result = page.evaluate("() => window.__sliderLatency")
        notebook.wait_for_idle_kernel()
        if i > 0:
            latencies.append(result["shown"])
    return latencies


def main() -> int:
    if not CHROMIUM.is_file():
        print(f"SKIP: {CHROMIUM} not found; to run this benchmark, {ENABLE_HINT}")
        return 0
    if not os.environ.get("OPTIM_LIB_AIRFOIL") and SHARED_AIRFOIL.is_file():
        os.environ["OPTIM_LIB_AIRFOIL"] = str(SHARED_AIRFOIL)
    print(f"slider events in JupyterLab, {NOTEBOOK.name}: key press to new figure shown, "
          f"{EVENTS} events each")
    passed = True
    with jupyterlab([NOTEBOOK]) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        notebook = LabNotebook(page, url, NOTEBOOK.name)
        notebook.run_all()
        for name, label, keys in SLIDERS:
            latencies = measure(notebook, label, keys)
            median = statistics.median(latencies)
            ok = median <= TARGET_MS
            passed &= ok
            print(f"{name:<44} median {median:6.1f} ms  (min {min(latencies):.0f}, "
                  f"max {max(latencies):.0f})   target <= {TARGET_MS:.0f} ms   {'PASS' if ok else 'FAIL'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
