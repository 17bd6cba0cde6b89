"""The airfoil loader: the published preprocessing, the checksum, the cache, the download and
what it says when it cannot get the file. Downloads go to a server on 127.0.0.1."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from optim_lib import airfoil
from optim_lib.airfoil import AirfoilDataError, load_airfoil


@pytest.fixture()
def isolated(monkeypatch, tmp_path):
    """No $OPTIM_LIB_AIRFOIL, and an empty cache folder."""
    monkeypatch.delenv(airfoil.PATH_VARIABLE, raising=False)
    cache = tmp_path / "cache"
    monkeypatch.setenv(airfoil.CACHE_VARIABLE, str(cache))
    return cache


@pytest.fixture()
def server(tmp_path):
    """A static file server on 127.0.0.1 serving tmp_path/www; yields its base URL."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_published_setup_first_1500_rows_standardized(airfoil_path):
    data = load_airfoil(airfoil_path)
    raw = np.loadtxt(airfoil_path)[:1500]
    assert data.X.shape == (1500, 5) and data.y.shape == (1500,)
    assert data.X.dtype == torch.float32
    np.testing.assert_allclose(data.X.mean(0).numpy(), 0, atol=1e-6)
    np.testing.assert_allclose(data.X.std(0, unbiased=False).numpy(), 1, atol=1e-5)
    # Row 0 standardized by hand: (800 - mean) / std of the frequency column.
    expected = (800 - raw[:, 0].mean()) / raw[:, 0].std()
    assert float(data.X[0, 0]) == pytest.approx(expected, rel=1e-6)
    assert float(data.y[0]) == pytest.approx((126.201 - raw[:, 5].mean()) / raw[:, 5].std(), rel=1e-6)


def test_environment_variable_points_at_a_local_copy(isolated, monkeypatch, airfoil_path):
    monkeypatch.setenv(airfoil.PATH_VARIABLE, str(airfoil_path))
    assert load_airfoil().source == Path(airfoil_path)


def test_wrong_checksum_is_refused_and_says_what_to_do(tmp_path):
    bad = tmp_path / "airfoil_self_noise.dat"
    bad.write_text("1\t2\t3\t4\t5\t6\n" * 1500)
    with pytest.raises(AirfoilDataError) as error:
        load_airfoil(bad)
    message = str(error.value)
    assert "SHA-1" in message and airfoil.SHA1 in message
    assert airfoil.PATH_VARIABLE in message


def test_missing_explicit_file_says_what_to_do(tmp_path):
    with pytest.raises(AirfoilDataError, match="does not exist.*OPTIM_LIB_AIRFOIL"):
        load_airfoil(tmp_path / "nowhere.dat")


def test_offline_with_no_copy_says_what_to_do(isolated):
    with pytest.raises(AirfoilDataError) as error:
        load_airfoil(urls=("http://127.0.0.1:9/airfoil_self_noise.dat",), timeout=2)
    message = str(error.value)
    assert "Could not download" in message and airfoil.PATH_VARIABLE in message
    assert not isolated.exists() or not any(isolated.iterdir())


def test_download_is_verified_cached_and_reused_offline(isolated, server, airfoil_path):
    root, base = server
    shutil.copy(airfoil_path, root / "airfoil_self_noise.dat")
    first = load_airfoil(urls=(f"{base}/airfoil_self_noise.dat",))
    assert first.source == isolated / "airfoil_self_noise.dat"
    assert airfoil.sha1_of(first.source) == airfoil.SHA1
    # The server no longer has it: the second load must come from the cache.
    (root / "airfoil_self_noise.dat").unlink()
    second = load_airfoil(urls=(f"{base}/airfoil_self_noise.dat",))
    assert torch.equal(first.X, second.X)


def test_download_with_wrong_checksum_is_not_cached(isolated, server):
    root, base = server
    (root / "airfoil_self_noise.dat").write_text("not the data\n")
    with pytest.raises(AirfoilDataError, match="SHA-1"):
        load_airfoil(urls=(f"{base}/airfoil_self_noise.dat",))
    assert not (isolated / "airfoil_self_noise.dat").exists()


def test_download_falls_back_to_the_next_source(isolated, server, airfoil_path):
    root, base = server
    shutil.copy(airfoil_path, root / "mirror.dat")
    data = load_airfoil(urls=(f"{base}/missing.dat", f"{base}/mirror.dat"))
    assert len(data) == 1500


def test_corrupt_cache_is_refused(isolated):
    isolated.mkdir(parents=True)
    (isolated / "airfoil_self_noise.dat").write_text("truncated")
    with pytest.raises(AirfoilDataError, match="cached airfoil file"):
        load_airfoil(urls=())


def test_bad_row_count_is_refused(airfoil_path):
    with pytest.raises(ValueError, match=r"n_rows must be a whole number in \[2, 1503\]; got 0"):
        load_airfoil(airfoil_path, n_rows=0)


def test_too_few_rows_to_standardize_is_refused_with_the_constant_column(airfoil_path):
    # The angle of attack is 0 in the first rows of the file.
    with pytest.raises(ValueError, match=r"n_rows=20: angle of attack \(deg\) is constant"):
        load_airfoil(airfoil_path, n_rows=20)


def test_unwritable_cache_says_what_to_do(isolated, server, airfoil_path, monkeypatch):
    root, base = server
    shutil.copy(airfoil_path, root / "airfoil_self_noise.dat")
    isolated.parent.mkdir(parents=True, exist_ok=True)
    isolated.write_text("a file where the cache folder should be")
    with pytest.raises(AirfoilDataError, match="could not cache it.*OPTIM_LIB_CACHE"):
        load_airfoil(urls=(f"{base}/airfoil_self_noise.dat",))
