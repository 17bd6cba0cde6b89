"""Shared fixtures. The airfoil data comes from ../shared/data (CI has no internet) or from
the file named by $OPTIM_LIB_AIRFOIL; the project never commits it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_AIRFOIL = REPO.parent / "shared" / "data" / "airfoil_self_noise.dat"


def pytest_configure(config: pytest.Config) -> None:
    # Notebooks run by nbval and by the book build inherit this, so they read the local copy
    # instead of trying to download (CI has no internet).
    if not os.environ.get("OPTIM_LIB_AIRFOIL") and SHARED_AIRFOIL.is_file():
        os.environ["OPTIM_LIB_AIRFOIL"] = str(SHARED_AIRFOIL)
    # The chapters' learning-rate sweeps run twice in a test session (nbval and the book
    # build): keep their numbers for the session (optim_lib.sweeps; keyed by the code too).
    # Under pytest-xdist the controller sets this before it starts the workers, so they share it.
    if not os.environ.get("OPTIM_LIB_SWEEP_CACHE"):
        os.environ["OPTIM_LIB_SWEEP_CACHE"] = tempfile.mkdtemp(prefix="optim-sweeps-")


def airfoil_file() -> Path:
    from optim_lib.airfoil import FILENAME, default_cache_dir

    candidates = [Path(os.environ.get("OPTIM_LIB_AIRFOIL") or SHARED_AIRFOIL), default_cache_dir() / FILENAME]
    candidate = next((path for path in candidates if path.is_file()), candidates[0])
    if not candidate.is_file():
        pytest.fail(
            f"The airfoil data file is needed for this test and was not found at {candidate}. "
            "Set OPTIM_LIB_AIRFOIL to a local copy of airfoil_self_noise.dat, or run "
            "python -c 'import optim_lib; optim_lib.load_airfoil()' once with internet."
        )
    return candidate


@pytest.fixture(scope="session")
def airfoil_path() -> Path:
    return airfoil_file()


@pytest.fixture(scope="session")
def airfoil(airfoil_path):
    from optim_lib import load_airfoil

    return load_airfoil(airfoil_path)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The book built once per session (a few minutes: it executes every notebook), shared by
    the book and browser tests. Under pytest-xdist (``make test`` runs one worker per core)
    the first worker that needs it builds it under a file lock and the others reuse it, or
    fail with the same message if the build failed."""
    from book_layout import build_book

    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return build_book(tmp_path_factory.mktemp("book"))
    from filelock import FileLock  # a dependency of torch

    shared = tmp_path_factory.getbasetemp().parent  # the same folder for every worker
    outcome = shared / "book.outcome"
    with FileLock(str(shared / "book.lock")):
        if not outcome.is_file():
            try:
                html = build_book(shared / "book")
            except Exception as error:  # a failed or timed-out build: the other workers must not retry it
                outcome.write_text(f"failed\n{error}")
                raise
            outcome.write_text(f"built\n{html}")
    status, detail = outcome.read_text().split("\n", 1)
    if status != "built":
        pytest.fail(f"the book build failed in another test worker:\n{detail}", pytrace=False)
    return Path(detail)
