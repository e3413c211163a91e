"""What a fuzzer found (issue 19): one test per numbered case, then two properties.

Each ``test_case_NN_*`` pins the fix of case NN of the issue and fails on the
code before it (commit 40165b1). The two property-based tests at the end
check the promises behind several cases at once: a failed or interrupted
call changes nothing, and a ``predict`` running while a fit commits sees one
model, the old one or the new one.

Everything runs on tiny data with a few epochs.
"""

import copy
import pickle
import sys
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.datasets import make_classification

from skdeep import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning",
    "ignore:Training interrupted by user:UserWarning",
)

TINY = dict(hidden_layer_sizes=(4,), max_iter=4, random_state=0)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def numeric_data(n=40, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3))
    return X, (X[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(int)


def city_frame(n=60, seed=0):
    rng = np.random.RandomState(seed)
    city = rng.choice(["x", "y", "z"], n)
    a = rng.normal(size=n)
    frame = pd.DataFrame({"a": a, "city": city, "b": rng.normal(size=n)})
    return frame, ((a > 0) ^ (city == "x")).astype(int)


class _EpochCallback:
    """A callback of sklearn's FitCallback protocol that runs ``action`` per epoch."""

    def __init__(self, action):
        self.action = action

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        if context.task_name in ("epoch", "lbfgs-iter"):
            self.action(fitted_estimator)


def _interrupt_after(n_epochs):
    """An action raising KeyboardInterrupt at the end of epoch ``n_epochs``."""
    seen = []

    def action(fitted_estimator):
        seen.append(1)
        if len(seen) >= n_epochs:
            raise KeyboardInterrupt

    return action


class _PickledSizes(list):
    """A picklable epoch action recording the size of each pickled checkpoint."""

    def __call__(self, fitted_estimator):
        self.append(len(pickle.dumps(fitted_estimator)))


def state_copy(estimator):
    """A deep copy of ``estimator.__dict__``; its callbacks are kept as they are."""
    callbacks = estimator.__dict__.get("_skl_callbacks")
    return copy.deepcopy(estimator.__dict__, memo={id(callbacks): callbacks})


def assert_same_state(before, after):
    """Every attribute of two ``__dict__`` copies is equal (arrays value by value)."""
    assert sorted(before) == sorted(after)
    for name in before:
        a, b = before[name], after[name]
        try:
            np.testing.assert_equal(a, b, err_msg=name)
        except (AssertionError, TypeError, ValueError):
            # Objects numpy cannot compare (a LabelBinarizer): their pickles
            # must be equal; callbacks are the same objects.
            assert a is b or pickle.dumps(a) == pickle.dumps(b), name


# --------------------------------------------------------------------------
# Wrong or untrained results
# --------------------------------------------------------------------------
@pytest.mark.parametrize("as_frame", [True, False])
def test_case_01_scorer_can_predict_raw_data_of_its_own(as_frame):
    """Case 1: a scorer predicting another raw hold-out set encodes it."""
    X, y = city_frame(200, seed=0)
    X_val, y_val = city_frame(50, seed=1)
    X_out, y_out = city_frame(50, seed=2)
    if not as_frame:
        X, X_val, X_out = X.to_numpy(), X_val.to_numpy(), X_out.to_numpy()
    inside = []

    def scorer(estimator, X_scored, y_scored):
        inside.append(estimator.score(X_out, y_out))
        return estimator.score(X_scored, y_scored)

    clf = MLPClassifier(
        hidden_layer_sizes=(8,), max_iter=5, random_state=0, scoring=scorer,
        categorical_features=["city"] if as_frame else [1],
    ).fit(X, y, X_val=X_val, y_val=y_val)
    # No early stopping: the last epoch's weights are the fitted ones.
    assert inside[-1] == clf.score(X_out, y_out)
    assert clf.validation_scores_[-1] == clf.score(X_val, y_val)


@pytest.mark.parametrize("score", [np.nan, -np.inf])
def test_case_02_no_finite_validation_score_raises(score):
    """Case 2: early stopping whose every validation score is NaN or -inf raises."""
    X, y = numeric_data()
    previous = MLPClassifier(**TINY).fit(X, y)
    before = state_copy(previous)
    previous.set_params(early_stopping=True, scoring=lambda est, X, y: score)
    before.update(early_stopping=True, scoring=previous.scoring)
    with pytest.raises(ValueError, match="Every validation score .* NaN or -inf"):
        previous.fit(X, y)
    assert_same_state(before, previous.__dict__)
    fresh = MLPClassifier(**TINY, early_stopping=True, scoring=lambda est, X, y: score)
    with pytest.raises(ValueError, match="untrained weights"):
        fresh.fit(X, y)
    assert not hasattr(fresh, "coefs_")


def test_case_03_validation_target_kind_must_match():
    """Case 3: a 1-D y_val for a multilabel y (and the reverse) names y_val."""
    X, _ = numeric_data()
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    with pytest.raises(ValueError, match="y_val must be a label-indicator matrix"):
        MLPClassifier(**TINY).fit(X, Y, X_val=X[:10], y_val=Y[:10, 0])
    with pytest.raises(ValueError, match="y_val must be labels"):
        MLPClassifier(**TINY).fit(X, Y[:, 0], X_val=X[:10], y_val=Y[:10])


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_case_04_callback_snapshots_are_independent_copies(solver):
    """Case 4: each epoch's fitted_estimator of a categorical model owns its tables."""
    pytest.importorskip("sklearn.callback")
    X, y = city_frame()
    kept = []

    def keep(fitted_estimator):
        kept.append((fitted_estimator, [t.copy() for t in fitted_estimator.embeddings_]))

    clf = MLPClassifier(**{**TINY, "solver": solver}, categorical_features=["city"])
    clf.set_callbacks(_EpochCallback(keep)).fit(X, y)
    assert len(kept) >= 2
    final = clf.embeddings_[0]
    for snapshot, tables in kept:
        # Still the weights of its epoch, and not a view of the live model.
        for table, saved in zip(snapshot.embeddings_, tables):
            np.testing.assert_array_equal(table, saved)
        assert not np.shares_memory(snapshot.embeddings_[0], final)
        assert not np.shares_memory(snapshot.coefs_[0], clf.coefs_[0])
        snapshot.predict(X[:3])
    assert not np.array_equal(kept[0][1][0], final)


@pytest.mark.parametrize(
    "class_weight, message",
    [
        ({0: -1, 1: 1}, "class_weight must be non-negative"),
        ({0: 0, 1: 0}, "class_weight must contain at least one positive value"),
        ({0: np.inf, 1: 1}, "class_weight contains infinity"),
    ],
)
def test_case_05_class_weight_is_validated(class_weight, message):
    """Case 5: negative, all-zero and infinite class weights are refused by name."""
    X, y = numeric_data()
    clf = MLPClassifier(**TINY, class_weight=class_weight)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


@pytest.mark.parametrize("activation", ["relu", "identity"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_case_06_extreme_inputs_give_finite_outputs(activation, n_classes):
    """Case 6: predictions of inputs that overflow the forward pass stay finite."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 3)).astype(np.float32)
    y = rng.randint(0, n_classes, 80)
    clf = MLPClassifier(
        hidden_layer_sizes=(16, 16), activation=activation, solver="sgd", max_iter=20,
        random_state=0,
    ).fit(X, y)
    huge = np.array([[1e308, -1e308, 1e308], [-1e308, 1e308, 1e308]])
    huge32 = np.array([[3e38, -3e38, 3e38], [1e8, -1e8, 1e8]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for rows in (huge, huge32):
            for method in ("predict_logits", "predict_proba", "predict_log_proba"):
                out = getattr(clf, method)(rows)
                assert np.isfinite(out).all(), (method, out)
            proba = clf.predict_proba(rows)
            np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
            np.testing.assert_array_equal(clf.predict(rows), clf.classes_[proba.argmax(1)])
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, X[:, 0])
    assert np.isfinite(reg.predict(huge)).all()


# --------------------------------------------------------------------------
# Failed or interrupted calls that change state
# --------------------------------------------------------------------------
def test_case_07_failed_first_partial_fit_leaves_no_classes():
    """Case 7: a first partial_fit that fails leaves the model unfitted."""
    X, y = numeric_data()
    X_bad = X.copy()
    X_bad[0, 0] = np.nan
    clf = MLPClassifier(**TINY)
    with pytest.raises(ValueError, match="NaN"):
        clf.partial_fit(X_bad, y, classes=[0, 1])
    assert not hasattr(clf, "classes_") and not hasattr(clf, "_label_binarizer")
    with pytest.raises(NotFittedError):
        clf.predict(X)
    clf.partial_fit(X, y, classes=[0, 1, 2])  # another `classes` is accepted
    assert list(clf.classes_) == [0, 1, 2]


def test_case_08_interrupted_partial_fit_changes_nothing():
    """Case 8: Ctrl-C in partial_fit keeps weights, Adam's state and n_iter_."""
    pytest.importorskip("sklearn.callback")
    X, y = numeric_data()
    clf = MLPClassifier(**TINY)
    for _ in range(3):
        clf.partial_fit(X, y, classes=[0, 1])
    clf.set_callbacks(_EpochCallback(_interrupt_after(1)))
    before = state_copy(clf)
    with pytest.warns(UserWarning, match="interrupted"):
        clf.partial_fit(X, y)
    assert_same_state(before, clf.__dict__)
    assert clf._optimizer_state["t"] > 0  # Adam's state is there, and was kept


def test_case_09_fresh_fit_drops_the_earlier_model():
    """Case 9: a refit drops earlier curves; partial_fit keeps curves aligned."""
    X, y = numeric_data(80)
    clf = MLPClassifier(**{**TINY, "max_iter": 5}, early_stopping=True).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_
    clf.partial_fit(X, y)
    assert len(clf.loss_curve_) == len(clf.validation_scores_)
    assert np.isnan(clf.validation_scores_[-1])
    clf.set_params(solver="lbfgs").fit(X, y)
    for name in ("history_", "validation_loss_curve_", "validation_scores_",
                 "best_validation_score_"):
        assert getattr(clf, name, None) is None, name
    assert len(clf.loss_curve_) == clf.n_iter_


@pytest.mark.parametrize("change", [dict(categorical_features=["a", "city"]),
                                    dict(embedding_dim=7)])
@pytest.mark.parametrize("call", ["warm_start", "partial_fit"])
def test_case_10_changed_categorical_settings_are_refused(change, call):
    """Case 10: changed categorical_features / embedding_dim cannot continue training."""
    X, y = city_frame()
    clf = MLPClassifier(**TINY, categorical_features=["city"]).fit(X, y)
    before = state_copy(clf)
    clf.set_params(**change, warm_start=call == "warm_start")
    with pytest.raises(ValueError, match="Cannot continue training"):
        clf.fit(X, y) if call == "warm_start" else clf.partial_fit(X, y)
    assert_same_state({**before, **change, "warm_start": call == "warm_start"},
                      clf.__dict__)


def test_case_11_callback_checkpoint_carries_no_training_data():
    """Case 11: a checkpoint pickled from a callback is the size of the model."""
    pytest.importorskip("sklearn.callback")
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"a": rng.normal(size=20000), "city": rng.choice(list("xyz"), 20000)})
    y = (X["a"] > 0).astype(int)
    sizes = _PickledSizes()
    clf = MLPClassifier(**{**TINY, "max_iter": 2}, categorical_features=["city"])
    clf.set_callbacks(_EpochCallback(sizes))
    clf.fit(X, y)
    final = len(pickle.dumps(clf))
    # The whole training set pickles to about 1 MB; the model to a few KB.
    assert sizes and max(sizes) < 2 * final + 20000, (list(sizes), final)
    assert not any(isinstance(v, (pd.DataFrame, np.ndarray)) and len(v) == 20000
                   for v in clf.__dict__.values())


# --------------------------------------------------------------------------
# Messages and tags
# --------------------------------------------------------------------------
def test_case_12_divergence_message_fits_its_cause():
    """Case 12: no convergence message inside; the hint names alpha, data or rate."""
    X, y = numeric_data()
    with pytest.raises(ValueError) as lbfgs:
        MLPClassifier(**TINY, solver="lbfgs", alpha=1e300).fit(X, y)
    message = str(lbfgs.value)
    assert "Training diverged" in message and "alpha=1e+300" in message
    assert "learning_rate_init" not in message and "did not improve" not in message
    with pytest.raises(ValueError) as sgd:
        MLPClassifier(**TINY, solver="sgd", learning_rate_init=1e3).fit(X * 1e100, y)
    message = str(sgd.value)
    assert "X has values up to" in message and "try 100" in message
    assert "did not improve" not in message and "Training loss" not in message
    # A tiny learning rate does not diverge, so nothing suggests an even smaller one.
    MLPClassifier(**TINY, solver="sgd", learning_rate_init=1e-300).fit(X, y)


@pytest.mark.parametrize("weight", [1e-50, 1e300])
def test_case_13_float32_sample_weight_validated_before_the_cast(weight):
    """Case 13: weights float32 cannot hold are refused as such, not as 0 or inf."""
    X, y = numeric_data()
    sample_weight = np.ones(len(y))
    sample_weight[0] = weight
    with pytest.raises(ValueError, match="float32 cannot represent"):
        MLPClassifier(**TINY).fit(X.astype(np.float32), y, sample_weight=sample_weight)
    MLPClassifier(**TINY).fit(X, y, sample_weight=sample_weight)  # float64 holds them


def test_case_14_errors_name_the_problem():
    """Case 14: string column left out, Dask with from_dtype, 0 rows of a frame."""
    X, y = city_frame()
    X_extra = X.assign(shop=np.where(y, "p", "q"))
    with pytest.raises(ValueError, match=r"column\(s\) \['shop'\], which categorical_feat"):
        MLPClassifier(**TINY, categorical_features=["city"]).fit(X_extra, y)
    clf = MLPClassifier(**TINY, categorical_features=["city"]).fit(X, y)
    with pytest.raises(ValueError, match=r"shape=\(0, 3\)"):
        clf.predict(X.iloc[:0])
    dd = pytest.importorskip("dask.dataframe")
    with pytest.raises(ValueError, match="'from_dtype' reads the column dtypes of a pandas"):
        MLPClassifier(**TINY, categorical_features="from_dtype").fit(
            dd.from_pandas(X, npartitions=2), y
        )


def test_issue_15_clearer_errors():
    """Issue 15, "Clearer errors": one sentence each, naming the column or the fix."""
    X, y = city_frame()
    with pytest.raises(ValueError, match=r"^X has categorical or string columns \['city'\] \("):
        MLPClassifier(**TINY).fit(X, y)
    with pytest.raises(ValueError, match="'from_dtype' reads the column dtypes of a pandas "
                                         "DataFrame and X is a numpy.ndarray"):
        MLPClassifier(**TINY, categorical_features="from_dtype").fit(X.to_numpy(), y)
    X_nan = X.copy()
    X_nan.loc[3, "b"] = np.nan
    with pytest.raises(ValueError, match=r"NaN in the numeric column\(s\) \['b'\]. With "
                                         "categorical_features"):
        MLPClassifier(**TINY, categorical_features=["city"]).fit(X_nan, y)


def test_case_15_tags_sample_weight_val_and_0d_layer_sizes():
    """Case 15: categorical tags, sample_weight_val alone, hidden_layer_sizes=np.array(3)."""
    tags = MLPClassifier(categorical_features=[0]).__sklearn_tags__().input_tags
    assert tags.allow_nan and tags.string and tags.categorical
    tags = MLPRegressor().__sklearn_tags__().input_tags
    assert not tags.allow_nan and not tags.string
    X, y = numeric_data()
    with pytest.raises(ValueError, match="sample_weight_val was passed without X_val"):
        MLPClassifier(**TINY).fit(X, y, sample_weight_val=np.ones(5))
    clf = MLPClassifier(**{**TINY, "hidden_layer_sizes": np.array(3)}).fit(X, y)
    assert clf.coefs_[0].shape == (3, 3)


def test_case_15_categorical_model_accepts_the_nan_its_tags_declare():
    """Case 15: NaN in a categorical column is accepted, and allow_nan says so
    (so sklearn does not run check_estimators_nan_inf, which expects an error)."""
    X, y = numeric_data()
    X[0, 0] = np.nan
    clf = MLPClassifier(**TINY, categorical_features=[0])
    assert clf.__sklearn_tags__().input_tags.allow_nan
    assert np.isfinite(clf.fit(X, y).predict_proba(X)).all()


def test_case_16_stopping_follows_sklearns_clipped_log_loss():
    """Case 16: once probabilities saturate, n_iter_ and loss_curve_ are sklearn's."""
    X, y = make_classification(
        n_samples=120, n_features=5, n_informative=3, n_classes=3,
        n_clusters_per_class=1, class_sep=3, random_state=2,
    )
    params = dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=0.1,
                  max_iter=200, random_state=2)
    ours = MLPClassifier(**params).fit(X * 10, y)
    theirs = SkMLPClassifier(**params).fit(X * 10, y)
    assert ours.n_iter_ == theirs.n_iter_ == 15
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------
def _failing_call(estimator, kind, X, y):
    """Make ``estimator``'s next call fail (or be interrupted) in way ``kind``.

    Returns ``(call, expected)``: the call to make and the exception (or
    warning, for an interrupt) it must end with.
    """
    if kind == "nan_in_X":
        X = X.copy()
        X.iloc[0, 0] = np.nan
        return (lambda method: method(X, y)), ValueError
    if kind == "negative_weight":
        weights = np.ones(len(y))
        weights[1] = -1
        return (lambda method: method(X, y, sample_weight=weights)), ValueError
    if kind == "wrong_columns":
        return (lambda method: method(X.iloc[:, :2], y)), ValueError
    if kind == "diverge":
        # The L2 penalty overflows whatever the weights: the loss is infinite.
        estimator.set_params(solver="sgd", alpha=1e308, batch_size=2)
        return (lambda method: method(X, y)), ValueError
    if kind == "interrupt":
        estimator.set_callbacks(_EpochCallback(_interrupt_after(1)))
        return (lambda method: method(X, y)), UserWarning
    raise AssertionError(kind)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    solver=st.sampled_from(["adam", "sgd", "lbfgs"]),
    categorical=st.booleans(),
    early_stopping=st.booleans(),
    call=st.sampled_from(["fit", "warm_start", "partial_fit"]),
    kind=st.sampled_from(["nan_in_X", "negative_weight", "wrong_columns", "diverge",
                          "interrupt"]),
    seed=st.integers(0, 2**16),
)
def test_property_failed_call_changes_nothing(solver, categorical, early_stopping, call, kind,
                                              seed):
    """A failed fit, warm start or partial_fit (or an interrupted partial_fit)
    leaves every attribute, the optimizer state and the history as before."""
    if kind == "interrupt":
        pytest.importorskip("sklearn.callback")
        call = "partial_fit"  # an interrupted fit keeps its epochs, as sklearn's does
    if call == "partial_fit" and solver == "lbfgs":
        solver = "adam"
    if kind == "wrong_columns" and call == "fit":
        kind = "nan_in_X"  # a fresh fit may change the columns
    X, y = city_frame(30, seed=seed % 7)
    clf = MLPClassifier(
        hidden_layer_sizes=(3,), max_iter=3, solver=solver, random_state=seed,
        early_stopping=early_stopping, categorical_features=["city"] if categorical else None,
    )
    if not categorical:
        X = X.assign(city=(X["city"] == "x").astype(float))
    clf.fit(X, y)
    if call == "partial_fit":
        clf.partial_fit(X, y)
    clf.set_params(warm_start=call == "warm_start")
    make_call, expected = _failing_call(clf, kind, X, y)
    before = state_copy(clf)
    method = clf.partial_fit if call == "partial_fit" else clf.fit
    if expected is UserWarning:
        with pytest.warns(UserWarning, match="interrupted"):
            make_call(method)
    else:
        with pytest.raises(expected):
            make_call(method)
    assert_same_state(before, clf.__dict__)


def _predict_during_fit(clf, X, y):
    """Predictions of ``clf`` made from another thread while it fits ``X, y``."""
    outcomes, done = [], threading.Event()

    def predict_loop():
        while not done.is_set():
            try:
                outcomes.append(clf.predict_proba(X))
            except NotFittedError as exc:
                outcomes.append(exc)
            except Exception as exc:  # anything else is a finding
                outcomes.append(exc)

    thread = threading.Thread(target=predict_loop)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: predict between fit's steps
    thread.start()
    try:
        clf.fit(X, y)
    finally:
        done.set()
        thread.join()
        sys.setswitchinterval(interval)
    return outcomes


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(categorical=st.booleans(), solver=st.sampled_from(["adam", "lbfgs"]),
       seed=st.integers(0, 2**16))
def test_property_predict_during_fit_sees_old_or_new_model(categorical, solver, seed):
    """predict from another thread during fit returns the previous model's answer
    (NotFittedError before the first fit ends) or the new one's, never another error."""
    X, y = city_frame(150, seed=seed % 5)
    if not categorical:
        X = X.assign(city=(X["city"] == "x").astype(float))
    clf = MLPClassifier(
        hidden_layer_sizes=(6,), max_iter=15, solver=solver, random_state=seed,
        categorical_features=["city"] if categorical else None,
    )
    previous = None
    for refit in range(2):
        outcomes = _predict_during_fit(clf, X, y)
        new = clf.predict_proba(X)
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                assert previous is None and isinstance(outcome, NotFittedError), outcome
            else:
                assert np.array_equal(outcome, new) or (
                    previous is not None and np.array_equal(outcome, previous)
                )
        previous = new
        clf.set_params(random_state=seed + 1)
