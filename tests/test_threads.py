"""Fits on several threads: deterministic for a thread count, rounding away from one thread."""

import threading
import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from skdeep import MLPClassifier, MLPRegressor, TabularMLPClassifier, TabularMLPRegressor
from skdeep._engine.parallel import available_threads

from _tables import small_table

pytestmark = pytest.mark.skipif(
    len(__import__("os").sched_getaffinity(0)) < 2, reason="needs two cores")


def _blas_threads():
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


def _fit(make, X, y, n_threads):
    with threadpool_limits(n_threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = _blas_threads()
        model = make().fit(X, y)
        assert _blas_threads() == before  # the fit restores the BLAS limits
    assert not any(t.name.startswith("skdeep-step") for t in threading.enumerate())
    return model


@pytest.mark.parametrize("Estimator", [TabularMLPClassifier, TabularMLPRegressor])
def test_tabular_fit_on_two_threads_is_deterministic_and_close_to_one(Estimator):
    X, y = small_table()
    y = y if Estimator is TabularMLPClassifier else y + X["b"].to_numpy()

    def make():
        return Estimator(hidden_layer_sizes=(256, 256), max_iter=3, n_networks=2,
                         random_state=0)

    with threadpool_limits(2):
        assert available_threads() == 2
    one = _fit(make, X, y, 1)
    two = _fit(make, X, y, 2)
    again = _fit(make, X, y, 2)
    for a, b, c in zip(one.estimators_, two.estimators_, again.estimators_):
        np.testing.assert_array_equal(b.coefs_[0], c.coefs_[0])
        assert b.loss_curve_ == c.loss_curve_
        # Two threads take one network each: the one-thread fit, bit for bit.
        np.testing.assert_array_equal(b.coefs_[0], a.coefs_[0])
        assert b.loss_curve_ == a.loss_curve_


@pytest.mark.parametrize("Estimator", [TabularMLPClassifier, TabularMLPRegressor])
def test_tabular_fit_with_rows_split_over_threads_differs_by_rounding(Estimator):
    X, y = small_table()
    y = y if Estimator is TabularMLPClassifier else y + X["b"].to_numpy()

    def make():
        # Three networks on two threads: each thread takes half of every batch.
        return Estimator(hidden_layer_sizes=(256, 256), max_iter=3, n_networks=3,
                         random_state=0)

    one = _fit(make, X, y, 1)
    two = _fit(make, X, y, 2)
    again = _fit(make, X, y, 2)
    for a, b, c in zip(one.estimators_, two.estimators_, again.estimators_):
        np.testing.assert_array_equal(b.coefs_[0], c.coefs_[0])
        # Same masks, same rows: only the order of the gradient sums differs.
        np.testing.assert_allclose(b.loss_curve_[0], a.loss_curve_[0], rtol=1e-4)
        assert not np.array_equal(b.coefs_[0], a.coefs_[0])


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_mlp_fit_on_two_threads_differs_from_one_by_rounding(Estimator):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 20))
    y = (X[:, 0] > 0).astype(int) if Estimator is MLPClassifier else X[:, 0] + X[:, 1]

    def make():
        return Estimator(hidden_layer_sizes=(256, 256), max_iter=4, random_state=0, alpha=1e-3)

    one = _fit(make, X, y, 1)
    two = _fit(make, X, y, 2)
    again = _fit(make, X, y, 2)
    assert two.loss_curve_ == again.loss_curve_
    np.testing.assert_allclose(two.loss_curve_, one.loss_curve_, rtol=1e-9)
    for a, b in zip(one.coefs_, two.coefs_):
        np.testing.assert_allclose(b, a, rtol=1e-7, atol=1e-10)


def test_mlp_with_dropout_stays_on_one_thread_per_step():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(400, 20)), rng.randint(2, size=400)

    def make():
        return MLPClassifier(hidden_layer_sizes=(256, 256), dropout=0.2, max_iter=2,
                             random_state=0)

    # Dropout masks come from one generator: the thread count changes nothing.
    assert _fit(make, X, y, 2).loss_curve_ == _fit(make, X, y, 1).loss_curve_
