"""Property-based tests: skdeep behaves on any small, valid problem.

Hypothesis draws shapes (2-40 samples, 1-6 features), input dtypes (float32,
float64, int, bool), label types (int, str, bool), dense or sparse input and
parameter combinations (solver, layers, activation, alpha, batch size, early
stopping). For every draw:

* ``fit`` either succeeds or raises a ``ValueError`` with a message;
* ``predict`` returns labels from ``classes_`` with the right shape and dtype;
* probabilities are finite, in [0, 1], and each row sums to 1;
* regression predictions are finite with the shape of ``y`` (1-D or 2-D).

The default profile is derandomized (the same examples on every run, so CI
is stable); set ``SKDEEP_HYPOTHESIS_PROFILE=explore`` to search afresh with
more examples.
"""

import os
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning

from skdeep import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

settings.register_profile(
    "skdeep-ci",
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "explore",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = os.environ.get("SKDEEP_HYPOTHESIS_PROFILE", "skdeep-ci")
SETTINGS = settings.get_profile(PROFILE)

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
SOLVERS = ["sgd", "adam", "lbfgs"]
HIDDEN = [(), (3,), (4, 3)]


# --------------------------------------------------------------------------
# strategies
# --------------------------------------------------------------------------


@st.composite
def features(draw, n_samples, n_features):
    """X of one of four dtypes, dense or sparse."""
    dtype = draw(st.sampled_from(["float32", "float64", "int", "bool"]))
    shape = (n_samples, n_features)
    if dtype == "float32":
        X = draw(hnp.arrays(np.float32, shape,
                            elements=st.floats(-10, 10, width=32, allow_subnormal=False)))
    elif dtype == "float64":
        X = draw(hnp.arrays(np.float64, shape,
                            elements=st.floats(-10, 10, allow_subnormal=False)))
    elif dtype == "int":
        X = draw(hnp.arrays(np.int64, shape, elements=st.integers(-5, 5)))
    else:
        X = draw(hnp.arrays(np.bool_, shape))
    if draw(st.booleans()):
        X = draw(st.sampled_from([sp.csr_matrix, sp.csc_matrix]))(X)
    return X


@st.composite
def parameters(draw, n_samples):
    params = dict(
        solver=draw(st.sampled_from(SOLVERS)),
        hidden_layer_sizes=draw(st.sampled_from(HIDDEN)),
        activation=draw(st.sampled_from(ACTIVATIONS)),
        alpha=draw(st.sampled_from([0.0, 1e-4, 0.1, 10.0])),
        batch_size=draw(st.one_of(st.just("auto"), st.integers(1, n_samples + 5))),
        max_iter=draw(st.integers(1, 6)),
        random_state=draw(st.integers(0, 2**16)),
    )
    if n_samples >= 10 and params["solver"] != "lbfgs":
        params["early_stopping"] = draw(st.booleans())
    return params


@st.composite
def classification_problems(draw):
    n_samples = draw(st.integers(2, 40))
    n_features = draw(st.integers(1, 6))
    X = draw(features(n_samples, n_features))
    label_type = draw(st.sampled_from(["int", "str", "bool"]))
    if label_type == "bool":
        classes = [False, True]
    else:
        n_classes = draw(st.integers(1, min(4, n_samples)))
        classes = list(range(-1, n_classes - 1)) if label_type == "int" else [
            f"class-{i}" for i in range(n_classes)]
    y = np.array(draw(st.lists(st.sampled_from(classes), min_size=n_samples,
                               max_size=n_samples)))
    return X, y, draw(parameters(n_samples))


@st.composite
def regression_problems(draw):
    n_samples = draw(st.integers(2, 40))
    n_features = draw(st.integers(1, 6))
    X = draw(features(n_samples, n_features))
    target_shape = draw(st.sampled_from(["1d", "column", "2", "3"]))
    n_outputs = {"1d": 1, "column": 1, "2": 2, "3": 3}[target_shape]
    y = draw(hnp.arrays(np.float64, (n_samples, n_outputs),
                        elements=st.floats(-100, 100, allow_subnormal=False)))
    if target_shape == "1d":
        y = y[:, 0]
    return X, y, draw(parameters(n_samples))


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _fit_or_value_error(est, X, y):
    """Fit; a ValueError is acceptable if it carries a message.

    Returns True when the estimator was fitted. Any other exception fails
    the test (RuntimeWarnings are errors in this project's test setup).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", DataConversionWarning)
        # batch_size > n_samples is clipped with a UserWarning, as in sklearn.
        warnings.filterwarnings("ignore", message=".*batch_size.*", category=UserWarning)
        try:
            est.fit(X, y)
        except ValueError as exc:
            assert str(exc).strip(), f"ValueError without a message: {exc!r}"
            event(f"fit refused: {str(exc)[:40]}")
            return False
    event("fitted")
    return True


def _n_rows(X):
    return X.shape[0]


# --------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------


@SETTINGS
@given(problem=classification_problems())
def test_classifier_outputs_are_well_formed(problem):
    X, y, params = problem
    clf = MLPClassifier(**params)
    if not _fit_or_value_error(clf, X, y):
        return
    n = _n_rows(X)
    classes = clf.classes_
    np.testing.assert_array_equal(classes, np.unique(y))

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        labels = clf.predict(X)
        proba = clf.predict_proba(X)
        log_proba = clf.predict_log_proba(X)

    assert labels.shape == (n,)
    assert labels.dtype == classes.dtype
    assert np.isin(labels, classes).all()

    # One class only: like sklearn, a logistic output gives two columns.
    assert proba.shape == (n, max(2, len(classes)))
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5, atol=1e-6)
    assert log_proba.shape == proba.shape
    assert np.isfinite(log_proba).all()

    if len(classes) >= 2:
        # Labels agree with the most probable class, away from near-ties.
        top2 = np.sort(proba, axis=1)[:, -2:]
        clear = top2[:, 1] - top2[:, 0] > 1e-4
        np.testing.assert_array_equal(labels[clear], classes[proba.argmax(axis=1)][clear])


@SETTINGS
@given(problem=regression_problems())
def test_regressor_predictions_are_finite_with_the_right_shape(problem):
    X, y, params = problem
    reg = MLPRegressor(**params)
    if not _fit_or_value_error(reg, X, y):
        return
    n = _n_rows(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        pred = reg.predict(X)
    expected_shape = (n,) if y.ndim == 1 or y.shape[1] == 1 else (n, y.shape[1])
    assert pred.shape == expected_shape
    assert np.issubdtype(pred.dtype, np.floating)
    assert np.isfinite(pred).all()
    assert reg.n_outputs_ == (1 if y.ndim == 1 else y.shape[1])


@SETTINGS
@given(problem=classification_problems(), n_calls=st.integers(1, 3))
def test_partial_fit_outputs_are_well_formed(problem, n_calls):
    """partial_fit (stochastic solvers) keeps the same output contract."""
    X, y, params = problem
    params = {**params, "solver": "adam" if params["solver"] == "lbfgs" else params["solver"]}
    params.pop("early_stopping", None)
    clf = MLPClassifier(**params)
    classes = np.unique(y)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*batch_size.*", category=UserWarning)
        try:
            for _ in range(n_calls):
                clf.partial_fit(X, y, classes=classes)
        except ValueError as exc:
            assert str(exc).strip()
            return
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        labels = clf.predict(X)
        proba = clf.predict_proba(X)
    assert labels.shape == (_n_rows(X),)
    assert np.isin(labels, classes).all()
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5, atol=1e-6)


@SETTINGS
@given(
    n_samples=st.integers(2, 30),
    n_features=st.integers(1, 6),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 1000),
)
def test_dense_and_sparse_input_give_the_same_model(n_samples, n_features, dtype, seed):
    """CSR input trains the same model as the dense array (up to rounding)."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, n_features).astype(dtype)
    X[rng.rand(*X.shape) < 0.5] = 0
    y = rng.randint(0, 2, n_samples)
    params = dict(hidden_layer_sizes=(3,), max_iter=3, random_state=seed, solver="sgd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense = MLPClassifier(**params).fit(X, y)
        sparse = MLPClassifier(**params).fit(sp.csr_matrix(X), y)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    for a, b in zip(dense.coefs_ + dense.intercepts_, sparse.coefs_ + sparse.intercepts_):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)

