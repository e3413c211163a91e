"""SciPy's bundled BLAS pool is kept on one thread while a network trains.

SciPy's wheels bundle an OpenBLAS whose thread pool is separate from
NumPy's; L-BFGS-B's small LAPACK solves wake it every iteration, and the two
pools then fight over the cores. The update rules' axpy runs in that BLAS
too: on one thread it takes a whole chunk per call instead of pieces that
stay below OpenBLAS's threading threshold. These tests check the pool is
limited for the training only, that NumPy's pool is never touched, and that
the whole chunks give the pieces' results bit for bit.
"""

import numpy as np
import pytest
import scipy.optimize
from threadpoolctl import threadpool_info, threadpool_limits

from skdeep import MLPClassifier, TabularMLPClassifier
from skdeep._engine import _linalg, optimizers
from skdeep._engine._linalg import (
    _is_scipy_bundled,
    scipy_blas_on_one_thread,
    scipy_blas_single_threaded,
)

from _tables import small_table


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/venv/lib/python3.11/site-packages/scipy.libs/libscipy_openblas-6cdc3b4a.so", True),
        ("/venv/lib/python3.11/site-packages/scipy/.dylibs/libscipy_openblas.dylib", True),
        (r"C:\venv\Lib\site-packages\scipy.libs\libscipy_openblas-abc.dll", True),
        # NumPy's copy has "scipy" in its file name, but not in its folder.
        ("/venv/lib/python3.11/site-packages/numpy.libs/libscipy_openblas64_-32a4.so", False),
        ("/opt/conda/lib/libopenblasp-r0.3.21.so", False),  # shared by NumPy and SciPy
        ("/usr/lib/x86_64-linux-gnu/libblas.so.3", False),
    ],
)
def test_recognises_the_blas_bundled_in_scipys_wheel(path, expected):
    if "\\" in path:
        from pathlib import PureWindowsPath

        path = PureWindowsPath(path).as_posix()
    assert _is_scipy_bundled(path) is expected


def _blas_threads():
    return {info["filepath"]: info["num_threads"]
            for info in threadpool_info() if info["user_api"] == "blas"}


def _scipy_own_blas():
    own = [path for path in _blas_threads() if _is_scipy_bundled(path)]
    if not own:
        pytest.skip("SciPy shares its BLAS with NumPy here: nothing to limit")
    return own


def test_limits_scipys_pool_only_and_restores_it():
    own = _scipy_own_blas()
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        with scipy_blas_on_one_thread():
            inside = _blas_threads()
        after = _blas_threads()
    assert after == before
    for path, threads in inside.items():
        assert threads == (1 if path in own else before[path]), path


def test_lbfgs_fit_runs_scipy_on_one_thread_and_gives_the_same_model(monkeypatch):
    own = _scipy_own_blas()
    seen = []
    real_minimize = scipy.optimize.minimize

    def recording_minimize(*args, **kwargs):
        seen.append({path: _blas_threads()[path] for path in own})
        return real_minimize(*args, **kwargs)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=30, random_state=0)
    with threadpool_limits(limits=2, user_api="blas"):
        reference = MLPClassifier(**params).fit(X, y)
        monkeypatch.setattr(scipy.optimize, "minimize", recording_minimize)
        model = MLPClassifier(**params).fit(X, y)
        after = {path: _blas_threads()[path] for path in own}
    assert seen == [dict.fromkeys(own, 1)]
    assert after == dict.fromkeys(own, 2)
    for a, b in zip(model.coefs_, reference.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [8193, 3 * 8192 + 17, 200_000])
def test_axpy_in_one_call_gives_the_bits_of_the_pieces(axpy_sizes, dtype, n):
    _scipy_own_blas()
    rng = np.random.default_rng(n)
    x, y = rng.normal(size=n).astype(dtype), rng.normal(size=n).astype(dtype)
    in_pieces = _linalg.axpy(0.1, x, y.copy())
    sizes = axpy_sizes(dtype)
    with threadpool_limits(limits=2, user_api="blas"):
        assert not scipy_blas_single_threaded()
        with scipy_blas_on_one_thread():
            assert scipy_blas_single_threaded()
            whole = _linalg.axpy(0.1, x, y.copy(), whole=True)
    assert sizes == [n]
    np.testing.assert_array_equal(whole, in_pieces)


@pytest.mark.parametrize("case", ["adam", "sgd", "tabular"])
def test_fits_update_whole_chunks_with_the_bits_of_the_pieces(monkeypatch, axpy_sizes, case):
    """Inside a fit SciPy's BLAS runs on one thread and axpy takes whole chunks (longer
    than a piece); forcing the pieces gives the same model bit for bit."""
    _scipy_own_blas()
    if case == "tabular":
        X, y = small_table()

        def fit():
            return TabularMLPClassifier(hidden_layer_sizes=(96, 96), n_networks=2, max_iter=3,
                                        random_state=0).fit(X, y)

        def weights(model):
            return [W for member in model.estimators_ for W in member.coefs_]
    else:
        rng = np.random.default_rng(0)
        X = rng.normal(size=(300, 40))
        y = (X[:, 0] + X[:, 1] > 0).astype(int)

        def fit():
            return MLPClassifier(hidden_layer_sizes=(300,), solver=case, max_iter=3,
                                 random_state=0).fit(X, y)

        def weights(model):
            return model.coefs_ + model.intercepts_
    sizes = axpy_sizes(np.float32 if case == "tabular" else np.float64)
    with threadpool_limits(limits=2, user_api="blas"):
        whole = fit()
        assert max(sizes) > _linalg._SINGLE_THREAD_SIZE
        sizes.clear()
        monkeypatch.setattr(optimizers, "scipy_blas_single_threaded", lambda: False)
        in_pieces = fit()
    assert max(sizes) <= _linalg._SINGLE_THREAD_SIZE
    for a, b in zip(weights(whole), weights(in_pieces), strict=True):
        np.testing.assert_array_equal(a, b)
