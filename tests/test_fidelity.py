"""Swapping the import from sklearn changes nothing: results that must match."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_regression
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from skdeep import MLPRegressor


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_multi_output_regression_stops_at_sklearns_epoch_with_sklearns_weights(solver):
    """The loss is reported averaged over outputs (sklearn's value), so tol-based
    stopping ends at sklearn's epoch; the gradient is the same in both."""
    X, Y = make_regression(n_samples=200, n_features=5, n_targets=3, noise=5.0,
                           random_state=0)
    Y = Y / Y.std(axis=0)
    params = dict(hidden_layer_sizes=(12,), solver=solver, tol=1e-3, max_iter=500,
                  random_state=0, learning_rate_init=0.01 if solver == "sgd" else 0.001)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = MLPRegressor(**params).fit(X, Y)
        theirs = SkMLPRegressor(**params).fit(X, Y)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
