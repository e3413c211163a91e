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


@pytest.mark.parametrize("early_stopping", [False, True])
def test_verbose_output_is_sklearns_line_for_line(capsys, early_stopping):
    """Scripts that parse sklearn's verbose lines keep working after the swap."""
    from sklearn.neural_network import MLPClassifier as SkMLPClassifier

    from skdeep import MLPClassifier

    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    params = dict(hidden_layer_sizes=(5,), max_iter=6, verbose=True, random_state=0,
                  early_stopping=early_stopping, tol=1.0, n_iter_no_change=2)
    outputs = []
    for Estimator in (MLPClassifier, SkMLPClassifier):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Estimator(**params).fit(X, y)
        outputs.append(capsys.readouterr().out.splitlines())
    assert outputs[0] == outputs[1]
    assert any(line.startswith("Iteration 1, loss = ") for line in outputs[0])


def test_verbose_two_prints_skdeeps_richer_line_and_lbfgs_prints_only_then(capsys):
    from skdeep import MLPClassifier

    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(40, 3)), np.arange(40) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, verbose=2, random_state=0).fit(X, y)
        assert ", time = " in capsys.readouterr().out
        MLPClassifier(solver="lbfgs", max_iter=3, verbose=True, random_state=0).fit(X, y)
        assert capsys.readouterr().out == ""  # as sklearn with SciPy >= 1.15
        MLPClassifier(solver="lbfgs", max_iter=3, verbose=2, random_state=0).fit(X, y)
        assert capsys.readouterr().out.startswith("Iteration 1, loss = ")
