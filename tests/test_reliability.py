"""Reliability of skdeep's estimators: bad input, faults, determinism, safety.

What a user can rely on when things go wrong or get unusual:

* bad input is refused with a ``ValueError`` whose message names the problem;
* a diverging optimisation never leaves NaN weights behind, and says so;
* Ctrl-C (KeyboardInterrupt) during ``fit`` keeps the last completed epoch;
* a fixed ``random_state`` gives bit-identical weights;
* no method ever modifies the caller's ``X``, ``y`` or ``sample_weight``;
* a fitted model can predict from many threads at once;
* extreme inputs and logits still give finite probabilities, silently.

Everything here runs on tiny data with a handful of epochs: the whole module
takes a few seconds.
"""

import re
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning, NotFittedError
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from threadpoolctl import threadpool_limits

import skdeep._training
from skdeep import MLPClassifier, MLPRegressor
from skdeep._engine import SklearnOrderObjective
from skdeep._engine.network import Network

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0)


# --------------------------------------------------------------------------
# data helpers
# --------------------------------------------------------------------------


def clf_data(n_samples=30, n_features=3, n_classes=2, seed=0):
    """Gaussian X and labels with every class present."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, n_features)
    y = rng.permutation(np.arange(n_samples) % n_classes)
    return X, y


def reg_data(n_samples=30, n_features=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, n_features)
    return X, X @ rng.randn(n_features) + 0.1 * rng.randn(n_samples)


def fitted_clf(**params):
    X, y = clf_data()
    return MLPClassifier(**{**SMALL, **params}).fit(X, y)


def all_weights(est):
    return list(est.coefs_) + list(est.intercepts_)


def weights_equal(a, b):
    return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))


def all_finite(est):
    return bool(all(np.isfinite(w).all() for w in all_weights(est)))


def with_nan(X):
    X = np.array(X, dtype=float)
    X[1, 0] = np.nan
    return X


def with_inf(X):
    X = np.array(X, dtype=float)
    X[1, 0] = np.inf
    return X


# --------------------------------------------------------------------------
# bad input: a ValueError whose message names the problem
# --------------------------------------------------------------------------


def _renamed_columns():
    X, y = clf_data()
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    clf = MLPClassifier(**SMALL).fit(df, y)
    clf.predict(df.rename(columns={"a": "z"}))


def _reordered_columns():
    X, y = clf_data()
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    clf = MLPClassifier(**SMALL).fit(df, y)
    clf.predict(df[["b", "a", "c"]])


def _string_X():
    X, y = clf_data()
    X = X.astype(object)
    X[2, 1] = "foo"
    MLPClassifier(**SMALL).fit(X, y)


def _string_X_at_predict():
    X, _ = clf_data()
    X = X.astype(object)
    X[0, 0] = "bar"
    fitted_clf().predict(X)


def _nan_sample_weight():
    X, y = clf_data()
    sw = np.ones(len(y))
    sw[3] = np.nan
    MLPClassifier(**SMALL).fit(X, y, sample_weight=sw)


def _inf_sample_weight():
    X, y = clf_data()
    sw = np.ones(len(y))
    sw[3] = np.inf
    MLPClassifier(**SMALL).fit(X, y, sample_weight=sw)


def _negative_sample_weight():
    X, y = clf_data()
    sw = np.ones(len(y))
    sw[3] = -1.0
    MLPClassifier(**SMALL).fit(X, y, sample_weight=sw)


X_CLF, Y_CLF = clf_data()
X_REG, Y_REG = reg_data()

# (id, call, regex the message must match). Every call must raise ValueError
# (sklearn's InvalidParameterError is a ValueError subclass).
BAD_INPUTS = [
    ("NaN in X (fit)", lambda: MLPClassifier(**SMALL).fit(with_nan(X_CLF), Y_CLF), "NaN"),
    ("inf in X (fit)", lambda: MLPClassifier(**SMALL).fit(with_inf(X_CLF), Y_CLF), "infinity"),
    ("NaN in X (regressor fit)", lambda: MLPRegressor(**SMALL).fit(with_nan(X_REG), Y_REG), "NaN"),
    ("NaN in X (predict)", lambda: fitted_clf().predict(with_nan(X_CLF)), "NaN"),
    ("inf in X (predict_proba)", lambda: fitted_clf().predict_proba(with_inf(X_CLF)), "infinity"),
    (
        "NaN in X (partial_fit)",
        lambda: MLPClassifier(**SMALL).partial_fit(with_nan(X_CLF), Y_CLF, classes=[0, 1]),
        "NaN",
    ),
    (
        "NaN in y (regressor)",
        lambda: MLPRegressor(**SMALL).fit(X_REG, np.where(Y_REG > 0, np.nan, Y_REG)),
        "NaN",
    ),
    (
        "inf in y (regressor)",
        lambda: MLPRegressor(**SMALL).fit(X_REG, np.where(Y_REG > 0, np.inf, Y_REG)),
        "infinity",
    ),
    (
        "NaN in y (classifier)",
        lambda: MLPClassifier(**SMALL).fit(X_CLF, np.where(Y_CLF > 0, np.nan, 0.0)),
        "NaN",
    ),
    ("empty X (0 samples)", lambda: MLPClassifier(**SMALL).fit(np.empty((0, 3)), []), "0 sample"),
    (
        "empty X (regressor)",
        lambda: MLPRegressor(**SMALL).fit(np.empty((0, 3)), np.empty(0)),
        "0 sample",
    ),
    ("empty X (predict)", lambda: fitted_clf().predict(np.empty((0, 3))), "0 sample"),
    (
        "len(X) != len(y)",
        lambda: MLPClassifier(**SMALL).fit(X_CLF, Y_CLF[:-1]),
        "inconsistent numbers of samples",
    ),
    (
        "len(sample_weight) != len(X)",
        lambda: MLPClassifier(**SMALL).fit(X_CLF, Y_CLF, sample_weight=np.ones(len(Y_CLF) - 1)),
        "sample_weight",
    ),
    (
        "2-D sample_weight",
        lambda: MLPClassifier(**SMALL).fit(X_CLF, Y_CLF, sample_weight=np.ones((len(Y_CLF), 1))),
        "sample_weight",
    ),
    ("negative sample_weight", _negative_sample_weight, "non-negative"),
    ("NaN in sample_weight", _nan_sample_weight, "NaN"),
    ("inf in sample_weight", _inf_sample_weight, "infinity"),
    (
        "all-zero sample_weight",
        lambda: MLPClassifier(**SMALL).fit(X_CLF, Y_CLF, sample_weight=np.zeros(len(Y_CLF))),
        "positive|zero",
    ),
    (
        "scalar sample_weight=-1.0",
        lambda: MLPClassifier(**SMALL).fit(X_CLF, Y_CLF, sample_weight=-1.0),
        "sample_weight.*(non-negative|positive)",
    ),
    (
        "scalar sample_weight=0.0",
        lambda: MLPClassifier(**SMALL).fit(X_CLF, Y_CLF, sample_weight=0.0),
        "sample_weight.*(positive|zero)|(positive|zero).*sample_weight",
    ),
    (
        "scalar sample_weight=nan",
        lambda: MLPClassifier(**SMALL).fit(X_CLF, Y_CLF, sample_weight=float("nan")),
        "sample_weight.*(NaN|finite)|NaN.*sample_weight",
    ),
    (
        "wrong n_features (predict)",
        lambda: fitted_clf().predict(X_CLF[:, :2]),
        "2 features, but MLPClassifier is expecting 3",
    ),
    (
        "wrong n_features (predict_proba)",
        lambda: fitted_clf().predict_proba(np.ones((2, 4))),
        "4 features, but MLPClassifier is expecting 3",
    ),
    (
        "wrong n_features (partial_fit)",
        lambda: MLPClassifier(**SMALL)
        .partial_fit(X_CLF, Y_CLF, classes=[0, 1])
        .partial_fit(X_CLF[:, :2], Y_CLF),
        "features",
    ),
    ("renamed DataFrame column at predict", _renamed_columns, "feature names should match"),
    ("reordered DataFrame columns at predict", _reordered_columns, "feature names should match"),
    (
        "partial_fit label outside classes (1st call)",
        lambda: MLPClassifier(**SMALL).partial_fit(X_CLF, Y_CLF + 5, classes=[0, 1]),
        "classes",
    ),
    (
        "partial_fit label outside classes (2nd call)",
        lambda: MLPClassifier(**SMALL)
        .partial_fit(X_CLF, Y_CLF, classes=[0, 1])
        .partial_fit(X_CLF, np.where(Y_CLF == 1, 7, 0)),
        "classes",
    ),
    (
        "partial_fit without classes (1st call)",
        lambda: MLPClassifier(**SMALL).partial_fit(X_CLF, Y_CLF),
        "classes must be passed",
    ),
    (
        "partial_fit with different classes",
        lambda: MLPClassifier(**SMALL)
        .partial_fit(X_CLF, Y_CLF, classes=[0, 1])
        .partial_fit(X_CLF, Y_CLF, classes=[0, 1, 2]),
        "classes",
    ),
    (
        "warm_start fit with new classes",
        lambda: MLPClassifier(**SMALL, warm_start=True).fit(X_CLF, Y_CLF).fit(X_CLF, Y_CLF + 1),
        "same classes",
    ),
    ("strings in X (fit)", _string_X, "could not convert string to float"),
    ("strings in X (predict)", _string_X_at_predict, "could not convert string to float"),
    (
        "string y (regressor)",
        lambda: MLPRegressor(**SMALL).fit(X_REG, np.array(["a"] * len(X_REG))),
        "could not convert string to float",
    ),
    ("complex X", lambda: MLPClassifier(**SMALL).fit(X_CLF.astype(complex), Y_CLF), "Complex"),
    ("1-D X", lambda: MLPClassifier(**SMALL).fit(X_CLF[:, 0], Y_CLF), "Expected 2D array"),
    ("3-D X", lambda: MLPClassifier(**SMALL).fit(X_CLF[:, :, None], Y_CLF), "dim 3"),
    (
        "negative y with loss='poisson'",
        lambda: MLPRegressor(loss="poisson", **SMALL).fit(X_REG, -np.abs(Y_REG)),
        "negative",
    ),
    (
        "hidden_layer_sizes=(0,)",
        lambda: MLPClassifier(hidden_layer_sizes=(0,), max_iter=2).fit(X_CLF, Y_CLF),
        "hidden_layer_sizes",
    ),
    (
        "learning_rate_init=-1",
        lambda: MLPClassifier(learning_rate_init=-1.0, max_iter=2).fit(X_CLF, Y_CLF),
        "learning_rate_init",
    ),
    (
        "early_stopping with 2 samples",
        lambda: MLPClassifier(early_stopping=True, **SMALL).fit(X_CLF[:2], [0, 1]),
        "validation set is too small",
    ),
]


@pytest.mark.parametrize("case, call, pattern", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_raises_value_error_naming_the_problem(case, call, pattern):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataConversionWarning)
        with pytest.raises(ValueError) as excinfo:
            call()
    message = str(excinfo.value)
    assert message.strip(), f"{case}: empty error message"
    assert re.search(pattern, message), f"{case}: message {message!r} lacks {pattern!r}"


def test_unfitted_predict_raises_not_fitted_error():
    for est in (MLPClassifier(), MLPRegressor()):
        with pytest.raises(NotFittedError):
            est.predict(X_CLF)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_single_class_y_behaves_like_sklearn(solver):
    """One class only: like sklearn's MLP, skdeep fits and predicts that class.

    (sklearn does not raise; predict returns the single class and
    predict_proba has two columns, from the logistic output.)
    """
    X, _ = clf_data()
    y = np.full(len(X), 3)
    ours = MLPClassifier(solver=solver, **SMALL).fit(X, y)
    theirs = SkMLPClassifier(solver=solver, **SMALL).fit(X, y)
    np.testing.assert_array_equal(ours.classes_, [3])
    np.testing.assert_array_equal(ours.predict(X), np.full(len(X), 3))
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    proba = ours.predict_proba(X)
    assert proba.shape == theirs.predict_proba(X).shape
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_column_vector_y_is_binary_like_sklearn():
    """A (n, 1) 0/1 target is a column vector: warned about, treated as 1-D."""
    X, y = clf_data()
    Y = y.reshape(-1, 1)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        ours = MLPClassifier(**SMALL).fit(X, Y)
    with pytest.warns(DataConversionWarning):
        theirs = SkMLPClassifier(**SMALL).fit(X, Y)
    np.testing.assert_array_equal(ours.classes_, [0, 1])
    assert ours.n_outputs_ == theirs.n_outputs_ == 1
    assert ours.predict(X).shape == theirs.predict(X).shape == (len(X),)
    assert ours.predict_proba(X).shape == (len(X), 2)


def test_failed_validation_keeps_the_fitted_model():
    """A refit that fails validation leaves the previous model usable."""
    clf = fitted_clf()
    before = clf.predict_proba(X_CLF)
    with pytest.raises(ValueError):
        clf.fit(with_nan(X_CLF), Y_CLF)
    np.testing.assert_array_equal(clf.predict_proba(X_CLF), before)


# --------------------------------------------------------------------------
# divergence: never NaN weights; a clear error that suggests a fix
# --------------------------------------------------------------------------

DIVERGENCE_HINT = re.compile(r"learning.rate|StandardScaler|scal", re.IGNORECASE)


def _huge_data(seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(40, 3) * 1e6
    return X, X[:, 0] * 1e3, (X[:, 0] > 0).astype(int)


def _check_after_fit_attempt(est, X, call):
    """Run ``call``; whatever happens, no NaN weight is observable after it.

    Returns the ValueError raised, or None.
    """
    try:
        call()
    except ValueError as exc:
        assert DIVERGENCE_HINT.search(str(exc)), str(exc)
        error = exc
    else:
        error = None
    try:
        prediction = est.predict(X)
    except NotFittedError:
        assert error is not None, "fit returned but the estimator is not fitted"
        return error
    outcome = f"fit raised {error}" if error is not None else "fit returned"
    assert all_finite(est), f"non-finite coefs_/intercepts_ after a fit attempt ({outcome})"
    finite_prediction = bool(np.isfinite(np.asarray(prediction, dtype=float)).all())
    assert finite_prediction, f"non-finite predictions after a fit attempt ({outcome})"
    if hasattr(est, "predict_proba"):
        finite_proba = bool(np.isfinite(est.predict_proba(X)).all())
        assert finite_proba, f"non-finite probabilities after a fit attempt ({outcome})"
    return error


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("learning_rate_init", [1e6, 1e300])
def test_huge_learning_rate_first_fit(Estimator, solver, learning_rate_init):
    """Either a ValueError that suggests a fix, or a finite model.

    If ``fit`` raised, the estimator must be unfitted (NotFittedError at
    predict) or hold finite weights; a half-fitted estimator that passes
    ``check_is_fitted`` but has no ``coefs_`` is a bug.
    """
    X, y_reg, y_clf = _huge_data()
    y = y_clf if Estimator is MLPClassifier else y_reg
    est = Estimator(
        solver=solver,
        learning_rate_init=learning_rate_init,
        hidden_layer_sizes=(5,),
        max_iter=20,
        random_state=0,
    )
    _check_after_fit_attempt(est, X, lambda: est.fit(X, y))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("method", ["partial_fit", "fit"])
@pytest.mark.parametrize("continuation", [False, True])
def test_non_finite_update_is_never_published(method, continuation):
    """One mini-batch whose loss is finite but whose update overflows.

    With a single batch per epoch the loss is computed before the step, so
    the blow-up shows only as non-finite weights ("non-finite weights" in the
    error). Those weights must not become ``coefs_``.
    """
    X_big, y_big, _ = _huge_data()
    est = MLPRegressor(solver="sgd", hidden_layer_sizes=(5,), max_iter=1, random_state=0,
                       warm_start=True)
    if continuation:
        est.partial_fit(X_big / 1e6, y_big / 1e9)
        before = [w.copy() for w in all_weights(est)]
    est.set_params(learning_rate_init=1e300)
    step = est.partial_fit if method == "partial_fit" else est.fit
    error = _check_after_fit_attempt(est, X_big / 1e6, lambda: step(X_big, y_big))
    if continuation and error is not None:
        assert weights_equal(all_weights(est), before)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_injected_nan_loss_raises_and_keeps_finite_weights(monkeypatch, Estimator, solver):
    """A NaN batch loss in epoch 3 (fault injection) is reported as divergence.

    Afterwards the estimator is either unfitted or holds the weights of the
    last finite epoch, i.e. those of a ``max_iter=2`` fit; never NaN.
    """
    X, y = clf_data(n_samples=40) if Estimator is MLPClassifier else reg_data(n_samples=40)
    params = dict(solver=solver, hidden_layer_sizes=(6,), batch_size=8, random_state=3, tol=0.0)
    reference = Estimator(max_iter=2, **params).fit(X, y)
    original = Network.loss_and_gradient
    calls = {"n": 0}

    def nan_loss(self, *args, **kwargs):
        calls["n"] += 1
        loss = original(self, *args, **kwargs)
        return float("nan") if calls["n"] == 2 * 5 + 3 else loss  # epoch 3, batch 3

    monkeypatch.setattr(Network, "loss_and_gradient", nan_loss)
    est = Estimator(max_iter=50, **params)
    with pytest.raises(ValueError, match="diverged"):
        est.fit(X, y)
    monkeypatch.undo()
    try:
        prediction = est.predict(X)
    except NotFittedError:
        return
    assert all_finite(est)
    assert weights_equal(all_weights(est), all_weights(reference))
    np.testing.assert_array_equal(prediction, reference.predict(X))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_that_returns_predicts_finite_values(dtype):
    """Undetected blow-up: the loss grows 1e12-fold in the last epoch.

    Found by hypothesis (wide value ranges). Every epoch's loss is finite, so
    the last epoch's update is never checked, and the weights (~6e12) are
    finite but the float32 model predicts ``inf`` on its own training data.
    sklearn's MLPRegressor behaves the same. The contract here: if ``fit``
    returns, ``predict`` on the training data is finite; otherwise ``fit``
    raises the divergence ValueError.
    """
    X = np.zeros((2, 1), dtype=dtype)
    y = np.array([905.0, 905.0])
    est = MLPRegressor(solver="sgd", hidden_layer_sizes=(4, 3), activation="identity",
                       alpha=0.0, max_iter=4, random_state=0)
    _check_after_fit_attempt(est, X, lambda: est.fit(X, y))


def test_sgd_regressor_divergence_is_reported():
    """The classic case, unscaled data and a huge step, does raise."""
    X, y, _ = _huge_data()
    est = MLPRegressor(solver="sgd", learning_rate_init=1e6, hidden_layer_sizes=(5,),
                       max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="learning rate.*too large|smaller"):
            est.fit(X, y)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("mode", ["partial_fit", "warm_start"])
@pytest.mark.parametrize("batch_size", [10, "auto"])
def test_huge_learning_rate_continuation_keeps_previous_weights(
    Estimator, solver, mode, batch_size
):
    """A diverging continuation keeps the earlier finite weights.

    After a well-behaved start, the learning rate is set absurdly high and
    training continues on unscaled data. If that raises, ``coefs_`` and the
    predictions are exactly those from before; if it returns, they are
    finite. Either way, lowering the learning rate again must allow training
    to continue: the failed call must not leave poisoned optimizer state.
    """
    X_big, y_reg, y_clf = _huge_data()
    y_big = y_clf if Estimator is MLPClassifier else y_reg
    X_small = X_big / 1e6
    y_small = y_big if Estimator is MLPClassifier else y_big / 1e9
    est = Estimator(
        solver=solver,
        hidden_layer_sizes=(5,),
        batch_size=batch_size,
        max_iter=3,
        random_state=0,
        warm_start=mode == "warm_start",
    )
    extra = {"classes": [0, 1]} if Estimator is MLPClassifier and mode == "partial_fit" else {}
    if mode == "partial_fit":
        est.partial_fit(X_small, y_small, **extra)
        est.partial_fit(X_small, y_small)
        step = est.partial_fit
    else:
        est.fit(X_small, y_small)
        step = est.fit
    before = [w.copy() for w in all_weights(est)]
    predictions = est.predict(X_small)

    est.set_params(learning_rate_init=1e300 if mode == "partial_fit" else 1e6)
    error = _check_after_fit_attempt(est, X_small, lambda: step(X_big, y_big))
    if error is not None:
        assert weights_equal(all_weights(est), before)
        np.testing.assert_array_equal(est.predict(X_small), predictions)

    est.set_params(learning_rate_init=1e-3)
    step(X_small, y_small)  # must not raise "Training diverged"
    assert all_finite(est)
    assert np.isfinite(np.asarray(est.predict(X_small), dtype=float)).all()


def test_failed_continuation_leaves_bookkeeping_unchanged():
    """A warm-started fit that raised is a no-op: weights and history agree.

    After the error, ``n_iter_``, ``t_``, ``loss_`` and ``loss_curve_``
    still describe the weights in ``coefs_`` (the ones kept).
    """
    X_big, y_big, _ = _huge_data()
    est = MLPRegressor(solver="sgd", hidden_layer_sizes=(5,), max_iter=3, random_state=0,
                       warm_start=True).fit(X_big / 1e6, y_big / 1e9)
    state = (est.n_iter_, est.t_, est.loss_, list(est.loss_curve_))
    est.set_params(learning_rate_init=1e6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="diverged"):
            est.fit(X_big, y_big)
    assert (est.n_iter_, est.t_, est.loss_, list(est.loss_curve_)) == state


@pytest.mark.parametrize(
    "Estimator, solver, learning_rate_init",
    [(MLPRegressor, "sgd", 1e6), (MLPRegressor, "sgd", 1e300), (MLPClassifier, "adam", 1e300)],
)
def test_divergence_is_reported_without_numpy_runtime_warnings(
    Estimator, solver, learning_rate_init
):
    """Divergence is detected and reported by skdeep; numpy's overflow noise is not.

    Under ``-W error::RuntimeWarning`` (this project's pytest setting, and a
    common production setting) a numpy overflow warning raised mid-epoch
    would escape ``fit`` as a RuntimeWarning instead of skdeep's ValueError.
    """
    X, y_reg, y_clf = _huge_data()
    y = y_clf if Estimator is MLPClassifier else y_reg
    est = Estimator(solver=solver, learning_rate_init=learning_rate_init,
                    hidden_layer_sizes=(5,), max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            est.fit(X, y)
        except ValueError as exc:
            assert DIVERGENCE_HINT.search(str(exc))


# --------------------------------------------------------------------------
# interruption: Ctrl-C keeps the last completed epoch
# --------------------------------------------------------------------------


def _interrupt_run_epoch(monkeypatch, on_call):
    original = skdeep._training._run_epoch
    calls = {"n": 0}

    def run_epoch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == on_call:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(skdeep._training, "_run_epoch", run_epoch)
    return calls


def _interrupt_mid_batch(monkeypatch, on_call):
    original = Network.loss_and_gradient
    calls = {"n": 0}

    def loss_and_gradient(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == on_call:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Network, "loss_and_gradient", loss_and_gradient)
    return calls


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("where", ["between_epochs", "mid_epoch"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_keyboard_interrupt_keeps_last_completed_epoch(
    monkeypatch, Estimator, solver, where, early_stopping
):
    """Ctrl-C in epoch 3 gives the model of ``max_iter=2``, with a warning."""
    X, y = clf_data(n_samples=40) if Estimator is MLPClassifier else reg_data(n_samples=40)
    params = dict(solver=solver, hidden_layer_sizes=(6,), batch_size=8, random_state=3,
                  early_stopping=early_stopping, tol=0.0)
    reference = Estimator(max_iter=2, **params).fit(X, y)

    est = Estimator(max_iter=50, **params)
    n_batches = -(-int(np.ceil(len(X) * (0.9 if early_stopping else 1))) // 8)
    if where == "between_epochs":
        _interrupt_run_epoch(monkeypatch, on_call=3)
    else:  # the 2nd mini-batch of the 3rd epoch: a partly applied epoch
        _interrupt_mid_batch(monkeypatch, on_call=2 * n_batches + 2)
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        est.fit(X, y)
    monkeypatch.undo()

    assert est.n_iter_ == 2
    assert len(est.loss_curve_) == 2
    assert weights_equal(all_weights(est), all_weights(reference))
    np.testing.assert_array_equal(est.predict(X), reference.predict(X))
    assert all_finite(est)


def test_keyboard_interrupt_in_first_epoch_gives_initial_weights(monkeypatch):
    X, y = clf_data()
    initial = MLPClassifier(**SMALL)
    _interrupt_run_epoch(monkeypatch, on_call=1)
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        initial.fit(X, y)
    monkeypatch.undo()
    assert initial.n_iter_ == 0
    assert all_finite(initial)
    assert np.isfinite(initial.predict_proba(X)).all()


def test_keyboard_interrupt_in_partial_fit_keeps_previous_weights(monkeypatch):
    X, y = clf_data()
    clf = MLPClassifier(**SMALL).partial_fit(X, y, classes=[0, 1])
    before = [w.copy() for w in all_weights(clf)]
    _interrupt_mid_batch(monkeypatch, on_call=1)
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        clf.partial_fit(X, y)
    monkeypatch.undo()
    assert weights_equal(all_weights(clf), before)
    clf.partial_fit(X, y)  # and training can go on
    assert all_finite(clf)


def _interrupt_lbfgs_evaluation(monkeypatch, objective, on_call):
    """Ctrl-C in the ``on_call``-th evaluation of L-BFGS's ``objective``."""
    if objective == "exact":
        return _interrupt_mid_batch(monkeypatch, on_call)
    original = SklearnOrderObjective.__call__
    calls = {"n": 0}

    def evaluate(self, flat):
        calls["n"] += 1
        if calls["n"] == on_call:
            raise KeyboardInterrupt
        return original(self, flat)

    monkeypatch.setattr(SklearnOrderObjective, "__call__", evaluate)
    return calls


@pytest.mark.parametrize("objective", ["sklearn", "exact"])
def test_keyboard_interrupt_in_lbfgs_leaves_no_half_fitted_model(monkeypatch, objective):
    """L-BFGS does not catch Ctrl-C (as in sklearn): the interrupt propagates.

    The estimator must then be either unfitted (NotFittedError) or usable,
    not half-fitted (fitted attributes set, but no ``coefs_``).
    """
    X, y = clf_data()
    clf = MLPClassifier(solver="lbfgs", hidden_layer_sizes=(5,), max_iter=50, random_state=0,
                        lbfgs_objective=objective)
    calls = _interrupt_lbfgs_evaluation(monkeypatch, objective, on_call=4)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert calls["n"] == 4
    monkeypatch.undo()
    try:
        proba = clf.predict_proba(X)
    except NotFittedError:
        return
    assert np.isfinite(proba).all()


# --------------------------------------------------------------------------
# determinism
# --------------------------------------------------------------------------

DETERMINISM_CASES = {
    "adam": dict(solver="adam"),
    "sgd": dict(solver="sgd", learning_rate="invscaling"),
    "sgd-adaptive": dict(solver="sgd", learning_rate="adaptive", n_iter_no_change=1),
    "lbfgs": dict(solver="lbfgs"),
    "early_stopping": dict(solver="adam", early_stopping=True, validation_fraction=0.2),
    "float32": dict(solver="adam", _dtype=np.float32),
    "float32-lbfgs": dict(solver="lbfgs", _dtype=np.float32),
    "sparse": dict(solver="sgd", _sparse=True),
}


def _fit_twice(Estimator, params):
    params = dict(params)
    dtype = params.pop("_dtype", np.float64)
    sparse = params.pop("_sparse", False)
    X, y = clf_data(n_samples=60, n_features=4, n_classes=3) if Estimator is MLPClassifier \
        else reg_data(n_samples=60, n_features=4)
    X = X.astype(dtype)
    if sparse:
        X = sp.csr_matrix(X)
    models = [
        Estimator(hidden_layer_sizes=(7, 4), max_iter=15, random_state=42, **params).fit(X, y)
        for _ in range(2)
    ]
    return models, X


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("case", list(DETERMINISM_CASES))
def test_same_random_state_gives_bit_identical_weights(Estimator, case):
    """Two fits with the same ``random_state`` give bit-identical ``coefs_``.

    BLAS may split a matrix product differently with a different number of
    threads, which changes the rounding of the lowest bits (and, over many
    epochs, more). Results are bit-identical for a fixed thread count; this
    test pins it to one thread with ``threadpoolctl.threadpool_limits(1)``.
    """
    with threadpool_limits(limits=1):
        (first, second), X = _fit_twice(Estimator, DETERMINISM_CASES[case])
    assert weights_equal(all_weights(first), all_weights(second))
    assert first.loss_curve_ == second.loss_curve_
    assert first.n_iter_ == second.n_iter_
    np.testing.assert_array_equal(first.predict(X), second.predict(X))
    if "_dtype" in DETERMINISM_CASES[case]:
        assert first.coefs_[0].dtype == np.float32


def test_determinism_without_thread_limits_same_process():
    """Without limiting threads, repeated fits in one process still agree
    bit for bit (the thread count does not change between them)."""
    (first, second), _ = _fit_twice(MLPClassifier, {"solver": "adam"})
    assert weights_equal(all_weights(first), all_weights(second))


def test_same_seeded_random_state_instances_and_clones_agree():
    X, y = clf_data()
    a = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5,
                      random_state=np.random.RandomState(7)).fit(X, y)
    b = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5,
                      random_state=np.random.RandomState(7)).fit(X, y)
    c = clone(MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=7)).fit(X, y)
    d = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=7).fit(X, y)
    assert weights_equal(all_weights(a), all_weights(b))
    assert weights_equal(all_weights(c), all_weights(d))


# --------------------------------------------------------------------------
# no mutation of the caller's data
# --------------------------------------------------------------------------


def _snapshot(obj):
    if obj is None:
        return None
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        return obj.copy(deep=True)
    if sp.issparse(obj):
        return (obj.format, obj.dtype, obj.copy())
    arr = np.asarray(obj)
    return (arr.copy(order="K"), arr.flags.c_contiguous, arr.flags.f_contiguous, arr.strides)


def _assert_unchanged(obj, snapshot, what):
    if obj is None:
        return
    if isinstance(obj, pd.DataFrame):
        pd.testing.assert_frame_equal(obj, snapshot, check_exact=True)
        return
    if isinstance(obj, pd.Series):
        pd.testing.assert_series_equal(obj, snapshot, check_exact=True)
        return
    if sp.issparse(obj):
        fmt, dtype, copy = snapshot
        assert obj.format == fmt and obj.dtype == dtype, what
        for attr in ("data", "indices", "indptr"):
            np.testing.assert_array_equal(getattr(obj, attr), getattr(copy, attr), err_msg=what)
        return
    copy, c_contig, f_contig, strides = snapshot
    assert obj.dtype == copy.dtype, what
    assert (obj.flags.c_contiguous, obj.flags.f_contiguous, obj.strides) == (
        c_contig, f_contig, strides), what
    np.testing.assert_array_equal(obj, copy, err_msg=what)


def _make_X(kind, X):
    if kind == "C-float64":
        return np.ascontiguousarray(X, dtype=np.float64)
    if kind == "F-float64":
        return np.asfortranarray(X, dtype=np.float64)
    if kind == "C-float32":
        return np.ascontiguousarray(X, dtype=np.float32)
    if kind == "F-float32":
        return np.asfortranarray(X, dtype=np.float32)
    if kind == "int64":
        return np.round(X * 3).astype(np.int64)
    if kind == "DataFrame":
        return pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    if kind == "csr":
        return sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    if kind == "csc":
        return sp.csc_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    raise ValueError(kind)


X_KINDS = ["C-float64", "F-float64", "C-float32", "F-float32", "int64", "DataFrame", "csr", "csc"]


@pytest.mark.parametrize("x_kind", X_KINDS)
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_no_method_mutates_caller_inputs(x_kind, Estimator):
    X_raw, y_raw = clf_data(n_samples=24, n_features=4, n_classes=3) \
        if Estimator is MLPClassifier else reg_data(n_samples=24, n_features=4)
    X = _make_X(x_kind, X_raw)
    if x_kind == "DataFrame":
        y = pd.Series(y_raw, name="target")
        sample_weight = pd.Series(np.linspace(0.5, 2.0, len(y_raw)))
    else:
        y = np.array(y_raw)
        sample_weight = np.linspace(0.5, 2.0, len(y_raw)).astype(np.float32)
    X_copy, y_copy, sw_copy = _snapshot(X), _snapshot(y), _snapshot(sample_weight)

    def check(step):
        _assert_unchanged(X, X_copy, f"X after {step}")
        _assert_unchanged(y, y_copy, f"y after {step}")
        _assert_unchanged(sample_weight, sw_copy, f"sample_weight after {step}")

    for solver in ("adam", "lbfgs"):
        est = Estimator(solver=solver, hidden_layer_sizes=(5,), max_iter=3, random_state=0)
        est.fit(X, y, sample_weight=sample_weight)
        check(f"fit({solver})")
    est = Estimator(hidden_layer_sizes=(5,), max_iter=3, random_state=0, early_stopping=True,
                    validation_fraction=0.25)
    est.fit(X, y, sample_weight=sample_weight)
    check("fit(early_stopping)")
    est = Estimator(hidden_layer_sizes=(5,), random_state=0)
    if Estimator is MLPClassifier:
        est.partial_fit(X, y, sample_weight=sample_weight, classes=np.unique(y_raw))
    else:
        est.partial_fit(X, y, sample_weight=sample_weight)
    est.partial_fit(X, y, sample_weight=sample_weight)
    check("partial_fit")
    est.predict(X)
    check("predict")
    if Estimator is MLPClassifier:
        est.predict_proba(X)
        check("predict_proba")
        est.predict_log_proba(X)
        check("predict_log_proba")
    est.score(X, y, sample_weight=sample_weight)
    check("score")


def test_fitted_model_does_not_alias_caller_arrays():
    """Changing the caller's arrays after fit does not change the model."""
    X, y = clf_data()
    X = X.copy()
    sample_weight = np.ones(len(y))
    clf = MLPClassifier(**SMALL).fit(X, y, sample_weight=sample_weight)
    proba = clf.predict_proba(X_CLF)
    X[:] = 1e3
    y[:] = 0
    sample_weight[:] = 0
    np.testing.assert_array_equal(clf.predict_proba(X_CLF), proba)


# --------------------------------------------------------------------------
# concurrency
# --------------------------------------------------------------------------


@pytest.mark.parametrize("x_kind", ["C-float64", "C-float32", "DataFrame", "csr"])
def test_concurrent_predict_matches_serial(x_kind):
    """predict / predict_proba from 8 threads give exactly the serial results."""
    X_raw, y = clf_data(n_samples=200, n_features=5, n_classes=3)
    X = _make_X(x_kind, X_raw)
    clf = MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=5, random_state=0).fit(X, y)
    reg = MLPRegressor(hidden_layer_sizes=(16,), max_iter=5, random_state=0).fit(X, X_raw[:, 0])

    chunks = [X[i : i + 25] for i in range(0, 200, 25)] * 4
    tasks = [(method, i) for i in range(len(chunks)) for method in ("p", "pp", "r")]

    def run(task):
        method, i = task
        if method == "p":
            return clf.predict(chunks[i])
        if method == "pp":
            return clf.predict_proba(chunks[i])
        return reg.predict(chunks[i])

    serial = [run(task) for task in tasks]
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(run, tasks))
    for task, expected, got in zip(tasks, serial, concurrent):
        np.testing.assert_array_equal(got, expected, err_msg=str(task))


# --------------------------------------------------------------------------
# overflow safety at prediction time
# --------------------------------------------------------------------------


def _check_probabilities(clf, X):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        proba = clf.predict_proba(X)
        log_proba = clf.predict_log_proba(X)
        labels = clf.predict(X)
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert np.isfinite(log_proba).all()
    assert (log_proba <= 0).all()
    assert np.isin(labels, clf.classes_).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
def test_extreme_feature_values_give_finite_probabilities(dtype, n_classes, activation):
    X, y = clf_data(n_samples=40, n_features=4, n_classes=n_classes)
    clf = MLPClassifier(hidden_layer_sizes=(8,), activation=activation, max_iter=5,
                        random_state=0).fit(X.astype(dtype), y)
    for value in (1e30, -1e30):
        X_big = np.full((3, 4), value, dtype=dtype)
        X_big[1] *= np.array([1, -1, 1, -1], dtype=dtype)
        _check_probabilities(clf, X_big)
    _check_probabilities(clf, X.astype(np.float32))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_huge_logits_give_finite_probabilities(dtype, n_classes):
    X, y = clf_data(n_samples=40, n_features=4, n_classes=n_classes)
    X = X.astype(dtype)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)
    signs = np.where(np.arange(clf.n_outputs_) % 2 == 0, 1.0, -1.0)
    clf.intercepts_[-1][...] = (1e30 * signs).astype(dtype)
    _check_probabilities(clf, X)
    clf.coefs_ = [(w * 1e15).astype(dtype) for w in clf.coefs_]
    _check_probabilities(clf, X)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_one_row_predictions_match_their_row_of_a_batch(dtype):
    """One row takes the latency path (no chunk sizing, one finiteness reduction):
    each row gives its row of the batch, and an overflowing row stays finite."""
    X, y = clf_data(n_samples=40, n_features=4, n_classes=3)
    X = X.astype(dtype)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)
    X_rows = np.vstack([X[:5], np.full((1, 4), 1e30, dtype=dtype)])
    batch = clf.predict_proba(X_rows)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for i, row in enumerate(X_rows):
        single = clf.predict_proba(row[None, :])
        assert single.shape == (1, 3)
        assert np.isfinite(single).all()
        np.testing.assert_allclose(single[0], batch[i], rtol=rtol, atol=1e-30)
    _check_probabilities(clf, X_rows[-1:])


def test_near_float64_max_features_do_not_warn():
    """Finite input near the float64 maximum is valid input, as in sklearn.

    sklearn predicts it without a RuntimeWarning. skdeep's lean predict path
    checks finiteness with ``np.isfinite(X.sum())``; the sum overflowing must
    not surface as "overflow encountered in reduce".
    """
    X, y = clf_data(n_samples=40, n_features=4, n_classes=3)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)
    X_big = np.full((3, 4), 1e308)
    _check_probabilities(clf, X_big)


def test_regressor_extreme_inputs_finite():
    X, y = reg_data(n_samples=40, n_features=4)
    for dtype in (np.float64, np.float32):
        reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(
            X.astype(dtype), y)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            pred = reg.predict(np.full((3, 4), 1e30, dtype=dtype))
        assert np.isfinite(pred).all()
