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


def _moons_split():
    from sklearn.datasets import make_moons
    from sklearn.model_selection import train_test_split

    X, y = make_moons(n_samples=200, noise=0.3, random_state=0)
    return train_test_split(X, y, test_size=0.5, random_state=0)


_ADAM = {
    "hidden_layer_sizes": (8,), "max_iter": 60, "learning_rate_init": 0.01, "random_state": 0,
}


def test_classifier_has_no_decision_function_and_keeps_its_logits():
    """sklearn's MLPClassifier has no decision_function; skdeep's neither."""
    from skdeep import MLPClassifier, TabularMLPClassifier

    assert not hasattr(MLPClassifier(), "decision_function")
    assert not hasattr(TabularMLPClassifier(), "decision_function")
    X_train, X_test, y_train, _ = _moons_split()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = MLPClassifier(**_ADAM).fit(X_train, y_train)
    logits = clf.predict_logits(X_test)
    assert logits.shape == (len(X_test),)
    np.testing.assert_allclose(clf.predict_proba(X_test)[:, 1], 1 / (1 + np.exp(-logits)))


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibrated_classifier_cv_calibrates_sklearns_probabilities(method):
    """CalibratedClassifierCV calibrates predict_proba, as with sklearn's MLP."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.metrics import brier_score_loss
    from sklearn.neural_network import MLPClassifier as SkMLPClassifier

    from skdeep import MLPClassifier

    X_train, X_test, y_train, y_test = _moons_split()
    probabilities = []
    for Estimator in (MLPClassifier, SkMLPClassifier):
        calibrated = CalibratedClassifierCV(Estimator(**_ADAM), method=method, cv=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            calibrated.fit(X_train, y_train)
        probabilities.append(calibrated.predict_proba(X_test))
    ours, theirs = probabilities
    np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-10)
    assert brier_score_loss(y_test, ours[:, 1]) == pytest.approx(
        brier_score_loss(y_test, theirs[:, 1]), rel=1e-9
    )


def test_decision_boundary_display_auto_draws_sklearns_response():
    """response_method="auto" picks predict_proba, as for sklearn's MLP."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.inspection import DecisionBoundaryDisplay
    from sklearn.neural_network import MLPClassifier as SkMLPClassifier

    from skdeep import MLPClassifier

    X_train, _, y_train, _ = _moons_split()
    responses = []
    for Estimator in (MLPClassifier, SkMLPClassifier):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = Estimator(**_ADAM).fit(X_train, y_train)
        display = DecisionBoundaryDisplay.from_estimator(
            clf, X_train, response_method="auto", grid_resolution=30
        )
        responses.append(display.response)
        plt.close(display.figure_)
    ours, theirs = responses
    assert 0 <= ours.min() and ours.max() <= 1  # probabilities, not logits
    np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-10)


_DIVERGING = {
    "hidden_layer_sizes": (100,), "activation": "identity", "solver": "sgd",
    "learning_rate_init": 1.0, "early_stopping": True, "random_state": 0,
}


def test_early_stopped_fit_that_diverges_keeps_its_best_weights_and_warns():
    """sklearn's contract (its test_mlp_diverging_loss): the best epoch's
    weights are kept, the diverged epoch is on record with a NaN score, and
    the fit warns instead of raising."""
    from sklearn.datasets import load_iris
    from sklearn.exceptions import ConvergenceWarning

    X, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="Training diverged in epoch .*best validation"):
        diverged = MLPRegressor(max_iter=20, **_DIVERGING).fit(X, y)
    scores = diverged.validation_scores_
    assert isinstance(scores[-1], float) and np.isnan(scores[-1])
    assert np.isnan(diverged.loss_curve_[-1]) and len(scores) == diverged.n_iter_ < 20
    best_epoch = int(np.nanargmax(scores)) + 1
    assert diverged.best_validation_score_ == scores[best_epoch - 1]
    # The same run stopped after the best epoch has the very same weights.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = MLPRegressor(max_iter=best_epoch, **_DIVERGING).fit(X, y)
    for a, b in zip(diverged.coefs_ + diverged.intercepts_,
                    reference.coefs_ + reference.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert np.isfinite(diverged.predict(X)).all()


def test_early_stopped_fit_that_diverges_before_a_good_epoch_raises():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    estimator = MLPRegressor(max_iter=20, **{**_DIVERGING, "learning_rate_init": 1e200})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="Training diverged: the loss became"):
            estimator.fit(X, y)
    assert not hasattr(estimator, "coefs_")


def test_divergence_error_has_sklearns_words_and_skdeeps_hint():
    """sklearn's test_nonfinite_params matches its message; skdeep adds a hint."""
    rng = np.random.RandomState(0)
    X = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    y = rng.standard_normal(size=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError) as error:
            MLPRegressor().fit(X, y)
    message = str(error.value)
    assert (
        "Solver produced non-finite parameter weights. The input data may contain large "
        "values and need to be preprocessed." in message
    )
    assert message.startswith("Training diverged: the loss became")
    assert message.endswith("(e.g. with StandardScaler); or the learning rate "
                            "(learning_rate_init=0.001) may be too large: try 0.0001.")
