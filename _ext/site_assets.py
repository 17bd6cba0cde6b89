"""What the website's pages load in the browser: all of it from the site itself (offline).

By default the pages would load MathJax from a CDN; offline the math would stay raw TeX.
``package.json``/``package-lock.json`` pin what the pages need, ``npm ci`` (run by
``make``) installs it into ``node_modules/``, and this Sphinx extension copies it into
``_static/offline/`` of the built site when the HTML build starts:

- MathJax (``_config.yml`` points ``mathjax_path`` at the copy);
- Pyodide, Python compiled to WebAssembly (core only: the standard library, no NumPy),
  which runs the live explorers in a Web Worker, and a memory snapshot of it just started
  (made here with Node.js), which the worker restores to be ready in about a second;
- the live explorers themselves: ``static/live/`` (the page script, its worker and CSS),
  the optim_lib modules the worker runs (:data:`optim_lib.live.BROWSER_FILES`, copied
  from this checkout's ``optim_lib/``, so the browser runs the same code as the kernel),
  and the airfoil rows the loss-curve explorers train on.

The build stops with a message if a configured file is missing, or if ``node_modules/``
does not match ``package-lock.json``.

Not a folder in ``html_static_path``: once the book has a ``_static/`` folder, Jupyter
Book 1 adds every ``.js`` file under the static paths to every page, and MathJax alone has
dozens. The explorers' script and CSS are added only to pages that have an explorer.

Each explorer's notebook output carries both the ipywidgets view and an HTML version (see
``optim_lib.widgets``); ``_config.yml`` tells myst-nb to render the HTML version, so that no
page shows ipywidgets sliders that no kernel drives. This extension also drops the saved
widget state from the pages (nothing on them reads it), and duplicate inline scripts:
Sphinx 7.4 lists an inline script added after the builder starts twice, so sphinx-thebe's
``const THEBE_JS_URL = ...`` threw "already been declared" on every page.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

FOLDER = "offline"
"""The folder under the site's ``_static/`` that receives the copies."""

NPM_ASSETS: dict[str, tuple[str, ...]] = {
    # package under node_modules/: the files it needs (globs), copied to
    # _static/offline/<name without scope>/ with the same relative paths.
    "mathjax": (
        "package.json", "LICENSE",
        "es5/tex-mml-chtml.js",  # the component Sphinx uses: TeX in, CommonHTML out
        "es5/output/chtml/**/*",  # its fonts
        "es5/input/tex/extensions/*",  # loaded on demand (\require, autoload)
        "es5/a11y/*", "es5/sre/**/*", "es5/ui/*", "es5/adaptors/*",  # loaded by the menu's options
    ),
    # Pyodide's core, as measured: the loader, the runtime, the standard library, the lock
    # file (read at start; it names no package the explorers load).
    "pyodide": (
        "package.json", "pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip",
        "pyodide-lock.json",
    ),
}

OWN_ASSETS = ("live/explorer.js", "live/worker.js", "live/explorer.css")
"""Files of this folder's static/, copied to _static/offline/."""

LIVE = f"{FOLDER}/live"
PAGE_SCRIPT = f"{LIVE}/explorer.js"
PAGE_CSS = f"{LIVE}/explorer.css"
EXPLORER_MARK = 'class="optim-live"'
"""What an explorer's HTML output (optim_lib.widgets) puts in a page."""
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

INSTALL_HINT = "run `npm ci` in {root} (`make book` and `make test` do it)"


def _locked_versions(root: Path) -> dict[str, str]:
    lock_file = root / "package-lock.json"
    if not lock_file.is_file():
        raise ExtensionError(f"site_assets: {lock_file} is missing")
    packages = json.loads(lock_file.read_text())["packages"]
    return {name: packages[f"node_modules/{name}"]["version"] for name in NPM_ASSETS}


def files_to_copy(root: Path) -> dict[str, Path]:
    """Path under ``_static/`` → source file, for every vendored file.

    Raises ExtensionError if ``node_modules/`` is missing or does not match
    ``package-lock.json``.
    """
    hint = INSTALL_HINT.format(root=root)
    files: dict[str, Path] = {}
    for package, version in _locked_versions(root).items():
        folder = root / "node_modules" / package
        manifest = folder / "package.json"
        if not manifest.is_file():
            raise ExtensionError(f"site_assets: {folder} is missing: {hint}")
        installed = json.loads(manifest.read_text())["version"]
        if installed != version:
            raise ExtensionError(
                f"site_assets: node_modules has {package} {installed}, package-lock.json {version}: {hint}"
            )
        name = package.rsplit("/", 1)[-1]
        for pattern in NPM_ASSETS[package]:
            matches = [path for path in folder.glob(pattern) if path.is_file()]
            if not matches:
                raise ExtensionError(f"site_assets: nothing matches {pattern} in {folder}: {hint}")
            for path in matches:
                files[f"{FOLDER}/{name}/{path.relative_to(folder).as_posix()}"] = path
    for name in OWN_ASSETS:
        files[f"{FOLDER}/{name}"] = Path(__file__).parent / "static" / name
    for relative, path in python_files(root).items():
        files[f"{LIVE}/python/{relative}"] = path
    return files


def python_files(root: Path) -> dict[str, Path]:
    """The optim_lib modules the browser runs: path under the package's parent → file."""
    from optim_lib.live import BROWSER_FILES

    package = root / "optim_lib"
    files: dict[str, Path] = {}
    for pattern in BROWSER_FILES:
        matches = sorted(package.glob(pattern))
        if not matches:
            raise ExtensionError(f"site_assets: nothing matches optim_lib/{pattern} in {root}")
        for path in matches:
            files[f"optim_lib/{path.relative_to(package).as_posix()}"] = path
    return files


def _configured_local_scripts(app: Sphinx) -> list[str]:
    scripts = [app.config.mathjax_path, *(getattr(app.config, "nb_ipywidgets_js", None) or {})]
    return [script for script in scripts if script and "://" not in script]


def copy_assets(app: Sphinx) -> None:
    if app.builder is None or app.builder.format != "html":
        return
    root = Path(app.srcdir)
    files = files_to_copy(root)
    missing = [script for script in _configured_local_scripts(app) if script not in files]
    if missing:
        raise ExtensionError(
            f"site_assets: _config.yml loads {missing} from _static/, which this extension does not "
            f"provide (see NPM_ASSETS in {__file__})"
        )
    target = Path(app.outdir) / "_static" / FOLDER
    shutil.rmtree(target, ignore_errors=True)
    for relative, source in files.items():
        destination = Path(app.outdir) / "_static" / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    manifest = {"files": sorted(python_files(root))}
    (target / "live" / "python" / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    _write_airfoil_rows(target / "live" / "airfoil.f64")
    _write_pyodide_snapshot(root, target / "live" / SNAPSHOT)
    logger.info(f"site_assets: copied {len(files)} files into {target}")


SNAPSHOT = "pyodide-snapshot.gz"
"""A gzipped memory snapshot of a freshly started Pyodide, which the worker restores."""


def _write_pyodide_snapshot(root: Path, destination: Path) -> None:
    """Start Pyodide once in Node.js (the same pinned package) and save its memory, so that
    the reader's browser restores Python in about a second instead of starting it in five.
    Node runs with an empty environment: nothing of the build machine's goes into the file."""
    node = shutil.which("node")
    if node is None:
        raise ExtensionError("site_assets: Node.js is needed to build the site (npm installs its assets)")
    raw = destination.with_suffix(".part")
    done = subprocess.run([node, str(Path(__file__).parent / "make_snapshot.mjs"), str(raw)], cwd=root,
                          env={"PATH": os.environ.get("PATH", "")}, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise ExtensionError(f"site_assets: making Pyodide's snapshot failed:\n{done.stderr[-2000:]}")
    destination.write_bytes(gzip.compress(raw.read_bytes(), compresslevel=6, mtime=0))
    raw.unlink()


def _write_airfoil_rows(destination: Path) -> None:
    """The rows the loss-curve explorers train on, as the kernel had them (each explorer's
    description carries their SHA-1, which the worker checks)."""
    from optim_lib.airfoil import AirfoilDataError, load_airfoil

    try:
        data = load_airfoil()
    except AirfoilDataError as error:
        raise ExtensionError(f"site_assets: the live loss-curve explorers need the airfoil data: {error}") from error
    destination.write_bytes(data.to_bytes())


def _script_key(script: Any) -> tuple[str, tuple[tuple[str, str], ...]]:
    if isinstance(script, str):
        return script, ()
    attributes = getattr(script, "attributes", {}) or {}
    return os.fspath(getattr(script, "filename", "") or ""), tuple(sorted(attributes.items()))


def _is_widget_state(script: Any) -> bool:
    return (getattr(script, "attributes", None) or {}).get("type") == WIDGET_STATE


def page_scripts(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """On a page with explorers, add their script and CSS."""
    if EXPLORER_MARK in context.get("body", ""):
        app.add_js_file(PAGE_SCRIPT, loading_method="defer")
        app.add_css_file(PAGE_CSS)


def clean_scripts(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """Drop the saved widget state, and keep the first of scripts with the same file and
    attributes (inline: same body)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen and not _is_widget_state(script):
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", copy_assets)
    app.connect("html-page-context", page_scripts)
    # After every extension has added its per-page scripts (myst-nb, MathJax).
    app.connect("html-page-context", clean_scripts, priority=990)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
