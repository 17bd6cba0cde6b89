"""The course's experiments in plain Python, for the kernel and the reader's browser alike.

The website runs these modules in Pyodide (Python compiled to WebAssembly, in a Web Worker),
where only the standard library exists, so they import neither NumPy nor torch. The kernel
runs the same functions behind :func:`~optim_lib.run_trajectory`,
:func:`~optim_lib.train_linear_regression` and the slider explorers, so a slider moved on
the website computes what it computes in JupyterLab.

- :mod:`.text`: the titles, summaries and messages the figures show.
- :mod:`.trajectory`: an elementwise rule on a 2-D point, coordinate by coordinate.
- :mod:`.regression`: linear regression on the airfoil rows, the full-data loss from the
  data's second moments.
- :mod:`.controls`: the sliders' grids (value, range and readout of every position).
- :mod:`.web`: what the page's worker calls: one explorer run, drawn as pixel coordinates.
"""

BROWSER_FILES = ("__init__.py", "landscapes.py", "rules/*.py", "live/*.py")
"""The modules of optim_lib that the website runs in the browser (globs under optim_lib/):
the build copies them into the site, and a test imports each with NumPy and torch blocked."""
