"""The NASA airfoil self-noise data set (Brooks, Pope & Marcolini, 1989; UCI, CC BY 4.0).

:func:`load_airfoil` returns the setup behind Dive into Deep Learning's loss curves: the
first 1500 rows, every column standardized to zero mean and unit variance, the five
measurements as features and the scaled sound pressure level as the target.

Where the file comes from, first match wins:

1. the ``path`` argument;
2. the environment variable ``OPTIM_LIB_AIRFOIL`` (a path to the file);
3. the cache, ``$OPTIM_LIB_CACHE`` or ``~/.cache/optim_lib``, filled by
4. a download from the public source, checked against its SHA-1.

A file with the wrong checksum is never used: the error says what to do.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from .live.regression import Moments, pack_rows, second_moments

FILENAME = "airfoil_self_noise.dat"
SHA1 = "76e5be1548fd8222e5074cf0faae75edff8cf93f"
URLS = (
    "https://d2l-data.s3-accelerate.amazonaws.com/airfoil_self_noise.dat",
    "https://archive.ics.uci.edu/ml/machine-learning-databases/00291/airfoil_self_noise.dat",
)
PATH_VARIABLE = "OPTIM_LIB_AIRFOIL"
CACHE_VARIABLE = "OPTIM_LIB_CACHE"
COLUMNS = (
    "frequency (Hz)",
    "angle of attack (deg)",
    "chord length (m)",
    "free-stream velocity (m/s)",
    "suction-side displacement thickness (m)",
    "scaled sound pressure level (dB)",
)


class AirfoilDataError(RuntimeError):
    """The airfoil file is missing, cannot be downloaded, or is not the expected file."""


@dataclass(frozen=True)
class AirfoilData:
    """Standardized features ``X`` (n × 5) and target ``y`` (n), float32 tensors."""

    X: torch.Tensor
    y: torch.Tensor
    source: Path

    def __len__(self) -> int:
        return len(self.y)

    @cached_property
    def rows(self) -> tuple[list[list[float]], list[float]]:
        """``X`` and ``y`` as Python floats (the float32 values, exactly), for the
        plain-Python trainer that the kernel and the browser share."""
        return self.X.tolist(), self.y.tolist()

    @cached_property
    def moments(self) -> Moments:
        """The data's second moments, from which the trainer computes the full-data loss."""
        return second_moments(*self.rows)

    def to_bytes(self) -> bytes:
        """The rows as the website's worker reads them (:func:`~optim_lib.live.regression.pack_rows`)."""
        return pack_rows(*self.rows)


def default_cache_dir() -> Path:
    return Path(os.environ.get(CACHE_VARIABLE) or Path.home() / ".cache" / "optim_lib")


def sha1_of(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def _how_to_fix() -> str:
    return (
        f"Download {FILENAME} by hand from {URLS[1]} and either pass its path "
        f"(load_airfoil(path=...)) or set the environment variable {PATH_VARIABLE} to it."
    )


def _verified(path: Path, what: str) -> Path:
    if not path.is_file():
        raise AirfoilDataError(f"{what} {path} does not exist. {_how_to_fix()}")
    digest = sha1_of(path)
    if digest != SHA1:
        raise AirfoilDataError(
            f"{what} {path} is not the airfoil data set: its SHA-1 is {digest}, expected {SHA1}. "
            f"Delete or replace it. {_how_to_fix()}"
        )
    return path


def _download(cache_dir: Path, urls: Sequence[str], timeout: float) -> Path:
    target = cache_dir / FILENAME
    failures = []
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                payload = response.read()
        except OSError as error:  # URLError and timeouts are OSErrors
            failures.append(f"{url}: {error}")
            continue
        digest = hashlib.sha1(payload).hexdigest()
        if digest != SHA1:
            failures.append(f"{url}: SHA-1 {digest}, expected {SHA1}")
            continue
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            # Write to a temporary file and rename, so an interrupted download leaves no half file.
            with tempfile.NamedTemporaryFile(dir=cache_dir, delete=False, suffix=".part") as part:
                part.write(payload)
            os.replace(part.name, target)
        except OSError as error:
            raise AirfoilDataError(
                f"Downloaded the airfoil data but could not cache it in {cache_dir}: {error}. "
                f"Set {CACHE_VARIABLE} to a writable folder. {_how_to_fix()}"
            ) from error
        return target
    raise AirfoilDataError(
        "Could not download the airfoil data set (no internet?). Tried:\n  "
        + "\n  ".join(failures)
        + f"\n{_how_to_fix()}"
    )


def airfoil_path(
    path: str | os.PathLike[str] | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    urls: Sequence[str] = URLS,
    timeout: float = 30.0,
) -> Path:
    """Find (or download and cache) the verified data file and return its path."""
    if path is not None:
        return _verified(Path(path), "The airfoil file passed as path,")
    if os.environ.get(PATH_VARIABLE):
        return _verified(Path(os.environ[PATH_VARIABLE]), f"The airfoil file named by ${PATH_VARIABLE},")
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cached = cache / FILENAME
    if cached.exists():
        return _verified(cached, "The cached airfoil file")
    return _download(cache, urls, timeout)


def load_airfoil(
    path: str | os.PathLike[str] | None = None,
    *,
    n_rows: int = 1500,
    cache_dir: str | os.PathLike[str] | None = None,
    urls: Sequence[str] = URLS,
    timeout: float = 30.0,
) -> AirfoilData:
    """The first ``n_rows`` rows, each column standardized; features ``X`` and target ``y``.

    Raises:
        AirfoilDataError: no verified file could be found or downloaded; the message says
            what to do.
    """
    if isinstance(n_rows, bool) or not isinstance(n_rows, int) or not 1 < n_rows <= 1503:
        raise ValueError(f"n_rows must be a whole number in [2, 1503]; got {n_rows!r}")
    source = airfoil_path(path, cache_dir=cache_dir, urls=urls, timeout=timeout)
    table = np.loadtxt(source, dtype=np.float64)[:n_rows]
    std = table.std(axis=0)
    if not (std > 0).all():
        constant = ", ".join(name for name, s in zip(COLUMNS, std) if not s > 0)
        raise ValueError(
            f"n_rows={n_rows}: {constant} is constant in the first {n_rows} rows and cannot be "
            "standardized; use more rows (the published setup uses 1500)"
        )
    table = (table - table.mean(axis=0)) / std
    data = torch.from_numpy(table.astype(np.float32))
    return AirfoilData(X=data[:, :-1].contiguous(), y=data[:, -1].contiguous(), source=source)
