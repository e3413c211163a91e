"""scikit-learn's estimator checks in every configuration of the two MLPs.

Every solver crossed with early stopping on and off, dropout, categorical
embeddings and skdeep's other extensions, for ``MLPClassifier`` and
``MLPRegressor`` (the tabular estimators run the same checks in
``test_tabular.py``). A configuration may fail only the checks that
``skdeep._estimator_checks.expected_failed_checks`` lists, each with its
reason; the marks are strict, so a listed check that passes fails the test
and the list stays exact.
"""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdeep import MLPClassifier, MLPRegressor
from skdeep._engine import OPTIMIZERS
from skdeep._estimator_checks import expected_failed_checks

SOLVERS = ("lbfgs", *OPTIMIZERS)  # lbfgs, sgd, adam, adamw, rmsprop
# sklearn's own check settings for its MLPs. Smaller networks miss the
# checks' accuracy floors (adamw's weight decay on 16 units: 0.8 < 0.83).
CHECKED = {"max_iter": 100}

# skdeep's extensions, all at once, in one non-default configuration each.
EXTENSIONS = {
    "hidden_layer_sizes": (12, 8),
    "activation": ["gelu", "leaky_relu"],
    "dropout": [0.1, 0.0],
    "init": "he",
    "solver": "adamw",
    "learning_rate": "cosine",
    "warmup": 2,
    "max_grad_norm": 5.0,
    "learning_rate_init": 0.01,
    "max_iter": 100,
}


def _solver_settings(Estimator, solver, early_stopping):
    # With early stopping, plain SGD at sklearn's default rate stops before
    # check_classifiers_train's accuracy floor (sklearn's MLPClassifier too).
    if Estimator is MLPClassifier and solver == "sgd" and early_stopping:
        return {"learning_rate_init": 0.01}
    return {}


def _solver_matrix():
    """(estimator, in the fast subset) for every solver x early stopping."""
    for i, Estimator in enumerate((MLPClassifier, MLPRegressor)):
        for j, solver in enumerate(SOLVERS):
            for early_stopping in (False, True):
                estimator = Estimator(
                    solver=solver, early_stopping=early_stopping,
                    **_solver_settings(Estimator, solver, early_stopping), **CHECKED,
                )
                # The fast subset has every solver and both estimators, each
                # solver once with and once without early stopping.
                yield estimator, (i + j) % 2 == early_stopping


def _fast_matrix():
    return [estimator for estimator, fast in _solver_matrix() if fast]


def _slow_matrix():
    return [estimator for estimator, fast in _solver_matrix() if not fast]


def _other_configurations():
    """Dropout, embeddings and skdeep's extensions: the fast ones first."""
    yield MLPClassifier(dropout=0.2, **CHECKED)
    # Column 0 embedded: the checks' continuous values become categories.
    yield MLPRegressor(categorical_features=[0], embedding_dim=2, **CHECKED)
    yield MLPClassifier(class_weight="balanced", **EXTENSIONS)
    yield MLPRegressor(loss="quantile", quantile=0.5, **CHECKED)


def _slow_configurations():
    # from_dtype finds no categorical column in arrays: a plain MLP.
    yield MLPClassifier(categorical_features="from_dtype", **CHECKED)
    yield MLPRegressor(dropout=0.2, **CHECKED)
    for Estimator in (MLPClassifier, MLPRegressor):
        yield Estimator(dropout=[0.2], early_stopping=True, **CHECKED)
    yield MLPClassifier(categorical_features=[0], embedding_dim=2, **CHECKED)
    yield MLPRegressor(categorical_features="from_dtype", **CHECKED)
    yield MLPRegressor(loss="huber", **EXTENSIONS)
    yield MLPRegressor(loss="absolute_error", **CHECKED)
    yield MLPClassifier(solver="rmsprop", activation="selu", init="lecun", max_iter=100)


@parametrize_with_checks(
    _fast_matrix(), expected_failed_checks=expected_failed_checks, xfail_strict=True
)
def test_solver_by_early_stopping(estimator, check):
    check(estimator)


@pytest.mark.slow
@parametrize_with_checks(
    _slow_matrix(), expected_failed_checks=expected_failed_checks, xfail_strict=True
)
def test_solver_by_early_stopping_the_other_half(estimator, check):
    check(estimator)


@parametrize_with_checks(
    list(_other_configurations()), expected_failed_checks=expected_failed_checks,
    xfail_strict=True,
)
def test_dropout_embeddings_and_extensions(estimator, check):
    check(estimator)


@pytest.mark.slow
@parametrize_with_checks(
    list(_slow_configurations()), expected_failed_checks=expected_failed_checks,
    xfail_strict=True,
)
def test_more_dropout_embeddings_and_extensions(estimator, check):
    check(estimator)


def _every_configuration():
    return [*_fast_matrix(), *_slow_matrix(), *_other_configurations(),
            *_slow_configurations()]


@pytest.mark.parametrize(
    "estimator", _every_configuration(), ids=repr
)
def test_every_expected_failure_has_a_written_reason(estimator):
    for check, reason in expected_failed_checks(estimator).items():
        assert check.startswith("check_")
        assert isinstance(reason, str) and len(reason.split()) >= 10, (check, reason)


def test_only_configurations_that_cannot_pass_declare_failures():
    """The default, L-BFGS (early_stopping ignored) and every solver without
    early stopping or dropout pass every check."""
    for solver in SOLVERS:
        assert expected_failed_checks(MLPClassifier(solver=solver)) == {}
        assert expected_failed_checks(MLPRegressor(solver=solver)) == {}
    assert expected_failed_checks(MLPClassifier(solver="lbfgs", early_stopping=True)) == {}
    assert expected_failed_checks(MLPClassifier(solver="lbfgs", dropout=0.5)) == {}
    assert not np.any([
        "check_classifiers_train" in expected_failed_checks(MLPClassifier(solver=s))
        for s in SOLVERS
    ])
