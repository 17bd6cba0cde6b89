"""What the website's pages load in the browser: all of it from the site itself (offline).

By default the pages load MathJax, RequireJS and the ipywidgets embed manager
(``@jupyter-widgets/html-manager``) from CDNs; offline the math stays raw TeX and the
sliders are missing. ``package.json``/``package-lock.json`` pin these packages, ``npm ci``
(run by ``make``) installs them into ``node_modules/``, and this Sphinx extension copies
the files the pages need into ``_static/offline/`` of the built site when the HTML build
starts, with ``static/widget-manager-setup.js`` (why: see that file). ``_config.yml``
points ``mathjax_path`` and ``nb_ipywidgets_js`` at the copies; the build stops with a
message if a configured file is not among them, or if ``node_modules/`` does not match
``package-lock.json``.

Not a folder in ``html_static_path``: once the book has a ``_static/`` folder, Jupyter
Book 1 adds every ``.js`` file under the static paths to every page, and MathJax alone has
dozens.

The manager's bundle contains the standard widgets (``@jupyter-widgets/base``,
``controls``, ``output``), so the course's sliders need no other module; only a
third-party widget library would be fetched from its CDN, which the browser test
(tests/test_browser_site.py) flags as a request leaving the site.

The extension also drops duplicate inline scripts from each page: Sphinx 7.4 lists an
inline script added after the builder starts twice, so sphinx-thebe's
``const THEBE_JS_URL = ...`` threw "already been declared" on every page.
"""

from __future__ import annotations

import json
import os
import shutil
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
    "requirejs": ("package.json", "require.js"),
    "@jupyter-widgets/html-manager": (
        "package.json",
        "dist/embed-amd.js",
        # Font Awesome, loaded from beside embed-amd.js when a widget shows an icon
        "dist/*.woff2", "dist/*.woff", "dist/*.ttf", "dist/*.eot", "dist/*.svg",
    ),
}

OWN_ASSETS = ("widget-manager-setup.js",)
"""Files of this folder's static/, copied to _static/offline/."""

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
    return files


def _configured_local_scripts(app: Sphinx) -> list[str]:
    scripts = [app.config.mathjax_path, *(getattr(app.config, "nb_ipywidgets_js", None) or {})]
    return [script for script in scripts if script and "://" not in script]


def copy_assets(app: Sphinx) -> None:
    if app.builder is None or app.builder.format != "html":
        return
    files = files_to_copy(Path(app.srcdir))
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
    logger.info(f"site_assets: copied {len(files)} files into {target}")


def _script_key(script: Any) -> tuple[str, tuple[tuple[str, str], ...]]:
    if isinstance(script, str):
        return script, ()
    attributes = getattr(script, "attributes", {}) or {}
    return os.fspath(getattr(script, "filename", "") or ""), tuple(sorted(attributes.items()))


def drop_duplicate_scripts(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                           doctree: Any) -> None:
    """Keep the first of scripts with the same file and attributes (inline: same body)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", copy_assets)
    # After every extension has added its per-page scripts (myst-nb, MathJax).
    app.connect("html-page-context", drop_duplicate_scripts, priority=990)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
