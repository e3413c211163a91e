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
from sklearn.base import clone
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.utils import shuffle
from sklearn.utils.estimator_checks import estimator_checks_generator, parametrize_with_checks

from skdeep import MLPClassifier, MLPRegressor
from skdeep._engine import OPTIMIZERS
from skdeep._estimator_checks import _WEIGHT_EQUIVALENCE, expected_failed_checks

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


# --------------------------------------------------------------------------
# Why scikit-learn's own MLPs seem to pass the early-stopping weight checks
# --------------------------------------------------------------------------


def _instances_by_check(estimator):
    """The estimator each of sklearn's checks really runs on, by check name."""
    return {check.func.__name__: instance
            for instance, check in estimator_checks_generator(estimator)}


def test_sklearn_runs_its_own_mlps_weight_check_with_other_solvers():
    """sklearn's check harness sets solver="lbfgs" on its own MLPClassifier for
    the dense weight-equivalence check (PER_ESTIMATOR_CHECK_PARAMS, looked up by
    class), and L-BFGS ignores early stopping: that is why it passes there. The
    sparse variant keeps Adam; check_class_weight_classifiers never runs, as
    sklearn's MLPClassifier has no class_weight. skdeep's classes get no such
    substitution: the checks run on the configuration given."""
    dense, sparse = _WEIGHT_EQUIVALENCE
    theirs = _instances_by_check(SkMLPClassifier(early_stopping=True, **CHECKED))
    assert theirs[dense].solver == "lbfgs" and theirs[dense].early_stopping
    assert theirs[sparse].solver == "adam"
    assert "check_class_weight_classifiers" not in theirs
    regressor = _instances_by_check(SkMLPRegressor(early_stopping=True, **CHECKED))[dense]
    assert (regressor.solver, regressor.tol, regressor.early_stopping) == ("sgd", 1e-2, True)
    ours = _instances_by_check(MLPClassifier(early_stopping=True, **CHECKED))
    assert ours[dense].solver == ours[sparse].solver == "adam"
    assert "check_class_weight_classifiers" in ours


def _weighted_and_repeated_probabilities(Estimator, data_seed, **params):
    """The weight-equivalence check's two fits, on the data of ``data_seed``."""
    rng = np.random.RandomState(data_seed)
    X, y = rng.rand(15, 30), rng.randint(0, 3, size=15)
    weights = rng.randint(0, 5, size=15)
    X_repeated, y_repeated = X.repeat(weights, axis=0), y.repeat(weights)
    X_weighted, y_weighted, weights = shuffle(X, y, weights, random_state=0)
    model = Estimator(random_state=0, **params)
    repeated = clone(model).fit(X_repeated, y_repeated)
    weighted = clone(model).fit(X_weighted, y_weighted, sample_weight=weights)
    return repeated.predict_proba(X), weighted.predict_proba(X)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("data_seed", [42, 0, 1, 2])  # 42: the check's own data
def test_early_stopping_fails_weight_equivalence_in_sklearn_too(data_seed):
    """Run on the configuration itself, sklearn's MLPClassifier with early
    stopping fails the check as skdeep's does, with the same probabilities:
    not luck of the check's seed, but the validation split. With L-BFGS (which
    ignores early stopping) both pass."""
    ours = _weighted_and_repeated_probabilities(MLPClassifier, data_seed, early_stopping=True,
                                                **CHECKED)
    theirs = _weighted_and_repeated_probabilities(SkMLPClassifier, data_seed,
                                                  early_stopping=True, **CHECKED)
    assert not np.allclose(*ours, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-9)
    for Estimator in (MLPClassifier, SkMLPClassifier):
        repeated, weighted = _weighted_and_repeated_probabilities(
            Estimator, data_seed, early_stopping=True, solver="lbfgs", **CHECKED)
        np.testing.assert_allclose(repeated, weighted, rtol=1e-7, atol=1e-9)
