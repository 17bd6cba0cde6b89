# Two commands get a newcomer going (see README.md):
#   make book   build the website into _build/html (sets up .venv and node_modules first if needed)
#   make test   run every test: optim_lib, every notebook under nbval, the book build, the
#               website and JupyterLab in Chromium (skipped without /usr/bin/chromium, except in CI)
# Also: make lab (open the notebooks in JupyterLab), make bench (speed benchmarks; the website's
# needs the built book), make serve (the built website on http://localhost:8000, live sliders).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The website serves MathJax and the widget manager itself (offline): npm installs them from
# package-lock.json, and _ext/site_assets.py copies them into the site at build time.
NPM_STAMP := node_modules/.package-lock.json

# Tests and CI have no internet: use the shared copy of the airfoil data when it is there.
# Otherwise optim_lib downloads it once (with a checksum) and caches it.
# The chapters' learning-rate sweeps keep their numbers between builds (optim_lib/sweeps.py:
# keyed by everything they depend on, the code included; never committed).
export OPTIM_LIB_SWEEP_CACHE ?= $(abspath _build/.sweep_cache)

SHARED_AIRFOIL := $(abspath ../shared/data/airfoil_self_noise.dat)
ifneq ($(wildcard $(SHARED_AIRFOIL)),)
export OPTIM_LIB_AIRFOIL ?= $(SHARED_AIRFOIL)
endif

.PHONY: book test lab bench serve clean

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || { echo "Creating $(VENV) ..."; $(PYTHON) -m venv $(VENV); }
	@echo "Installing requirements into $(VENV) (a few minutes the first time) ..."
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the website's MathJax and widget manager: install Node.js and npm (Debian: apt-get install npm)"; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $(NPM_STAMP)

book: $(STAMP) $(NPM_STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "Open _build/html/index.html in a browser."

# One pytest-xdist worker per core, each test file (each notebook) kept on one worker: the
# book build, which executes every notebook, runs beside the other tests instead of before them.
test: $(STAMP) $(NPM_STAMP)
	$(BIN)/python -m pytest --numprocesses=auto --dist=loadfile

lab: $(STAMP)
	$(BIN)/jupyter lab chapters/

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_optimizers.py
	$(BIN)/python benchmarks/bench_sliders.py
	$(BIN)/python benchmarks/bench_browser.py
	$(BIN)/python benchmarks/bench_network.py
	$(BIN)/python benchmarks/bench_memory_matrix_sliders.py
	$(BIN)/python benchmarks/bench_schedule_sliders.py
	$(BIN)/python benchmarks/bench_schedule_free_sliders.py
	@test -f _build/html/index.html || $(MAKE) book
	$(BIN)/python benchmarks/bench_website.py

serve:
	@test -f _build/html/index.html || $(MAKE) book
	cd _build/html && ../../$(BIN)/python -m http.server --bind 127.0.0.1 8000

clean:
	rm -rf _build .jupyter_cache screenshots
