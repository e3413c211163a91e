"""SciPy's bundled BLAS pool is kept on one thread while L-BFGS-B runs.

SciPy's wheels bundle an OpenBLAS whose thread pool is separate from
NumPy's; L-BFGS-B's small LAPACK solves wake it every iteration, and the two
pools then fight over the cores. These tests check the pool is limited for
the optimisation only, and that NumPy's pool is never touched.
"""

import numpy as np
import pytest
import scipy.optimize
from threadpoolctl import threadpool_info, threadpool_limits

from skdeep import MLPClassifier
from skdeep._engine._linalg import _is_scipy_bundled, scipy_blas_on_one_thread


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
