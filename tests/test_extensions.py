"""skdeep's features beyond sklearn's MLP: behaviour through the estimators."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from _callbacks import Recorder

from skdeep import MLPClassifier, MLPRegressor
from skdeep._compat import InvalidParameterError

NEW_ACTIVATIONS = ["leaky_relu", "elu", "selu", "softplus", "gelu"]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("activation", NEW_ACTIVATIONS)
def test_new_activations_learn_iris(iris, activation):
    X, y = iris
    clf = MLPClassifier((16,), activation=activation, solver="lbfgs", random_state=0)
    assert clf.fit(X, y).score(X, y) > 0.95


def test_per_layer_activation_is_used_in_prediction(iris):
    X, y = iris
    clf = MLPClassifier((5, 4), activation=["tanh", "relu"], max_iter=20, random_state=0)
    clf.fit(X, y)
    hidden = np.maximum(np.tanh(X @ clf.coefs_[0] + clf.intercepts_[0]) @ clf.coefs_[1]
                        + clf.intercepts_[1], 0)
    logits = hidden @ clf.coefs_[2] + clf.intercepts_[2]
    np.testing.assert_allclose(clf.predict_logits(X), logits, rtol=1e-12)


def test_per_layer_setting_of_the_wrong_length_is_rejected(iris):
    X, y = iris
    with pytest.raises(ValueError, match="2 hidden layers"):
        MLPClassifier((5, 4), activation=["tanh"]).fit(X, y)
    with pytest.raises(ValueError, match="Invalid activation"):
        MLPClassifier((5, 4), activation=["tanh", "swish"]).fit(X, y)
    with pytest.raises(InvalidParameterError):
        MLPClassifier(dropout=1.0).fit(X, y)


def test_dropout_is_deterministic_and_does_not_touch_prediction(iris):
    X, y = iris
    a = MLPClassifier((32,), dropout=0.3, max_iter=30, random_state=1).fit(X, y)
    b = MLPClassifier((32,), dropout=0.3, max_iter=30, random_state=1).fit(X, y)
    no_dropout = MLPClassifier((32,), max_iter=30, random_state=1).fit(X, y)
    for wa, wb in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(wa, wb)
    assert not np.allclose(a.coefs_[0], no_dropout.coefs_[0])
    # Prediction is deterministic: the same rows give the same probabilities.
    np.testing.assert_array_equal(a.predict_proba(X), a.predict_proba(X))


def test_dropout_zero_reproduces_the_sklearn_compatible_path(iris):
    X, y = iris
    a = MLPClassifier((8,), dropout=0.0, max_iter=10, random_state=0).fit(X, y)
    b = MLPClassifier((8,), max_iter=10, random_state=0).fit(X, y)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])


@pytest.mark.parametrize("init, bound", [("he", np.sqrt(6 / 4)), ("lecun", np.sqrt(3 / 4))])
def test_init_bounds(iris, init, bound):
    X, y = iris
    clf = MLPClassifier((200,), init=init, max_iter=1, learning_rate_init=1e-12, random_state=0)
    first = clf.fit(X, y).coefs_[0]
    assert np.abs(first).max() <= bound
    assert np.abs(first).max() > 0.95 * bound


@pytest.mark.parametrize("solver", ["adamw", "rmsprop"])
def test_new_solvers_learn(iris, solver):
    X, y = iris
    clf = MLPClassifier((16,), solver=solver, learning_rate_init=0.01, max_iter=200,
                        random_state=0)
    assert clf.fit(X, y).score(X, y) > 0.95


def test_adamw_weight_decay_shrinks_weights(iris):
    X, y = iris
    norms = []
    for decay in (0.0, 5.0):
        clf = MLPClassifier((16,), solver="adamw", weight_decay=decay, learning_rate_init=0.01,
                            max_iter=100, random_state=0).fit(X, y)
        norms.append(sum(np.square(W).sum() for W in clf.coefs_))
    assert norms[1] < 0.5 * norms[0]


def test_partial_fit_continues_adamw_and_rmsprop(iris):
    X, y = iris
    for solver in ("adamw", "rmsprop"):
        clf = MLPClassifier((8,), solver=solver, random_state=0)
        for _ in range(3):
            clf.partial_fit(X, y, classes=np.unique(y))
        assert clf._optimizer_state["solver"] == solver
        assert len(clf.loss_curve_) == 3


@pytest.mark.parametrize("schedule", ["cosine", "step"])
@pytest.mark.parametrize("solver", ["sgd", "adam", "adamw", "rmsprop"])
def test_new_schedules_apply_to_every_stochastic_solver(iris, schedule, solver):
    X, y = iris
    clf = MLPClassifier((8,), solver=solver, learning_rate=schedule, learning_rate_init=0.01,
                        max_iter=12, lr_step_size=4, lr_gamma=0.1, tol=0, random_state=0)
    clf.fit(X, y)
    rate = clf._optimizer_state["learning_rate"]
    expected = 0.0 if schedule == "cosine" else 0.01 * 0.1**3
    assert rate == pytest.approx(expected, abs=1e-12)


def test_adam_ignores_sklearn_schedules_like_sklearn(iris):
    X, y = iris
    a = MLPClassifier((8,), learning_rate="invscaling", max_iter=5, random_state=0).fit(X, y)
    b = MLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])


def test_gradient_clipping_bounds_the_first_step():
    X, y = make_regression(n_samples=64, n_features=3, noise=0, random_state=0)
    y = y * 1000  # huge gradients
    clip = MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", momentum=0, learning_rate_init=1.0,
                        max_grad_norm=1e-3, batch_size=64, max_iter=1, shuffle=False,
                        random_state=0)
    ref = MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", momentum=0, learning_rate_init=1.0,
                       batch_size=64, max_iter=1, shuffle=False, random_state=0)
    start = MLPRegressor(hidden_layer_sizes=(4,), max_iter=1, learning_rate_init=1e-300, random_state=0).fit(X, y)
    clip.fit(X, y)
    moved = np.sqrt(sum(np.square(a - b).sum() for a, b in
                        zip(clip.coefs_ + clip.intercepts_, start.coefs_ + start.intercepts_)))
    assert moved <= 1e-3 * (1 + 1e-9)
    ref.fit(X, y)
    moved_unclipped = np.sqrt(sum(np.square(a - b).sum() for a, b in
                                  zip(ref.coefs_ + ref.intercepts_,
                                      start.coefs_ + start.intercepts_)))
    assert moved_unclipped > 1000 * moved


def test_class_weight_balanced_equals_matching_sample_weight():
    X, y = make_classification(n_samples=120, weights=[0.8, 0.2], random_state=0)
    weights = np.where(y == 1, 120 / (2 * np.sum(y == 1)), 120 / (2 * np.sum(y == 0)))
    a = MLPClassifier((6,), solver="lbfgs", class_weight="balanced", random_state=0).fit(X, y)
    b = MLPClassifier((6,), solver="lbfgs", random_state=0).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0], rtol=1e-10)


def test_class_weight_dict_combines_with_sample_weight():
    X, y = make_classification(n_samples=60, random_state=1)
    sw = np.linspace(0.5, 1.5, 60)
    a = MLPClassifier((4,), solver="lbfgs", class_weight={0: 1.0, 1: 3.0}, random_state=0)
    a.fit(X, y, sample_weight=sw)
    b = MLPClassifier((4,), solver="lbfgs", random_state=0)
    b.fit(X, y, sample_weight=sw * np.where(y == 1, 3.0, 1.0))
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0], rtol=1e-10)


def test_predict_logits_is_the_logits(iris):
    X, y = iris
    clf = MLPClassifier((6,), solver="lbfgs", random_state=0).fit(X, y)
    scores = clf.predict_logits(X)
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    np.testing.assert_allclose(clf.predict_proba(X), exp / exp.sum(axis=1, keepdims=True))
    binary = MLPClassifier((6,), solver="lbfgs", random_state=0).fit(X, y == 2)
    assert binary.predict_logits(X).shape == (150,)
    np.testing.assert_array_equal(binary.predict_logits(X) > 0, binary.predict(X))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("target", ["multiclass", "binary", "multilabel"])
def test_predict_log_proba_is_the_log_of_predict_proba_and_finite(iris, dtype, target):
    """Far from the data a probability would underflow to 0 (log: -inf); both
    methods are floored at the smallest normal float instead, consistently."""
    X, y = iris
    X = X.astype(dtype)
    y = {"multiclass": y, "binary": y == 2,
         "multilabel": np.column_stack([y == 0, y == 1, y > 0])}[target]
    clf = MLPClassifier((6,), solver="lbfgs", random_state=0).fit(X, y)
    clf.coefs_[-1][...] *= 1e4
    proba, log_proba = clf.predict_proba(X), clf.predict_log_proba(X)
    info = np.finfo(dtype)
    assert proba.dtype == log_proba.dtype == dtype
    assert np.isfinite(log_proba).all()
    assert proba.min() == info.smallest_normal  # where exp(log-softmax) underflows
    assert log_proba.min() == np.log(info.smallest_normal)
    # Next to 1 a probability is only known to its float spacing (eps), so its
    # log is too; predict_log_proba, computed directly, is more precise there.
    np.testing.assert_allclose(log_proba, np.log(proba), rtol=1e-6, atol=info.eps)
    np.testing.assert_array_equal(np.argsort(log_proba), np.argsort(proba))
    if target == "multilabel":  # each label's probability strictly inside (0, 1)
        assert proba.max() == 1 - info.epsneg
    else:
        np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=2 * info.eps)


@pytest.mark.parametrize("loss", ["huber", "absolute_error"])
def test_robust_losses_resist_outliers(loss):
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(300, 1))
    y = 2 * X[:, 0]
    y_noisy = y.copy()
    y_noisy[:30] += 50  # 10% gross outliers
    robust = MLPRegressor(hidden_layer_sizes=(), loss=loss, solver="adam", learning_rate_init=0.05,
                          max_iter=300, random_state=0).fit(X, y_noisy)
    squared = MLPRegressor(hidden_layer_sizes=(), solver="adam", learning_rate_init=0.05,
                           max_iter=300, random_state=0).fit(X, y_noisy)
    robust_error = np.abs(robust.predict(X[30:]) - y[30:]).mean()
    squared_error = np.abs(squared.predict(X[30:]) - y[30:]).mean()
    assert robust_error < 0.3 * squared_error


def test_new_parameters_are_searchable(iris):
    X, y = iris
    grid = GridSearchCV(
        MLPClassifier((8,), max_iter=30, random_state=0),
        {"dropout": [0.0, 0.2], "solver": ["adam", "adamw"], "activation": ["relu", "gelu"]},
        cv=2,
    ).fit(X, y)
    assert set(grid.best_params_) == {"dropout", "solver", "activation"}


# --------------------------------------------------------------------------
# Training control and observability
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, random_state=0)


def test_history_is_the_source_of_the_curves(digits_split):
    X_train, X_val, y_train, y_val = digits_split
    clf = MLPClassifier((16,), max_iter=8, random_state=0, early_stopping=True)
    clf.fit(X_train, y_train)
    assert len(clf.history_) == clf.n_iter_ == 8
    assert [r["loss"] for r in clf.history_] == clf.loss_curve_
    assert [r["validation_score"] for r in clf.history_] == clf.validation_scores_
    assert [r["validation_loss"] for r in clf.history_] == clf.validation_loss_curve_
    assert all(r["time"] > 0 and r["learning_rate"] == 0.001 for r in clf.history_)
    assert [r["epoch"] for r in clf.history_] == list(range(1, 9))


def test_history_continues_across_partial_fit(digits_split):
    X_train, _, y_train, _ = digits_split
    clf = MLPClassifier((8,), random_state=0)
    for _ in range(3):
        clf.partial_fit(X_train, y_train, classes=np.arange(10))
    assert [r["epoch"] for r in clf.history_] == [1, 2, 3]


def test_explicit_validation_set_replaces_the_split(digits_split):
    X_train, X_val, y_train, y_val = digits_split
    clf = MLPClassifier((16,), max_iter=5, random_state=0, early_stopping=True)
    clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    # All training rows were used: t_ counts them, no fraction held out.
    assert clf.t_ == 5 * len(X_train)
    assert clf.validation_scores_[-1] == pytest.approx(
        clf.score(X_val, y_val), abs=0.05
    )


def test_explicit_validation_set_without_early_stopping_only_records(digits_split):
    X_train, X_val, y_train, y_val = digits_split
    a = MLPClassifier((16,), max_iter=5, random_state=0).fit(X_train, y_train)
    b = MLPClassifier((16,), max_iter=5, random_state=0)
    b.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    assert len(b.validation_scores_) == 5 and a.validation_scores_ is None
    assert b.validation_scores_[-1] == pytest.approx(b.score(X_val, y_val))


def test_validation_set_errors(digits_split):
    X_train, X_val, y_train, y_val = digits_split
    with pytest.raises(ValueError, match="together"):
        MLPClassifier(max_iter=1).fit(X_train, y_train, X_val=X_val)
    with pytest.raises(ValueError, match="classes not seen"):
        MLPClassifier(max_iter=1).fit(X_train, y_train, X_val=X_val, y_val=y_val + 100)


@pytest.mark.parametrize("scoring", ["loss", "f1_macro", "neg_log_loss"])
def test_early_stopping_on_any_scorer(digits_split, scoring):
    X_train, X_val, y_train, y_val = digits_split
    clf = MLPClassifier((16,), max_iter=15, random_state=0, early_stopping=True,
                        scoring=scoring, n_iter_no_change=3)
    clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    best = int(np.argmax(clf.validation_scores_))
    assert clf.best_validation_score_ == clf.validation_scores_[best]
    if scoring == "loss":
        np.testing.assert_allclose(clf.validation_scores_, -np.array(clf.validation_loss_curve_))
    if scoring == "f1_macro":
        from sklearn.metrics import f1_score

        # The best weights are restored, so the final model scores the best.
        assert f1_score(y_val, clf.predict(X_val), average="macro") == pytest.approx(
            clf.best_validation_score_
        )


def test_validation_set_is_routed_through_pipeline_and_search(digits_split):
    import sklearn
    from sklearn.pipeline import Pipeline

    X_train, X_val, y_train, y_val = digits_split
    with sklearn.config_context(enable_metadata_routing=True):
        clf = MLPClassifier((8,), max_iter=5, random_state=0, early_stopping=True)
        pipe = Pipeline(
            [("scale", StandardScaler()), ("mlp", clf.set_fit_request(X_val=True, y_val=True))],
            transform_input=["X_val"],
        )
        search = GridSearchCV(pipe, {"mlp__alpha": [1e-4, 1e-1]}, cv=2)
        search.fit(X_train, y_train, X_val=X_val, y_val=y_val)
        fitted = search.best_estimator_[-1]
        # Validation rows went through the scaler: the score matches the pipeline's.
        assert fitted.validation_scores_[-1] == pytest.approx(
            search.best_estimator_.score(X_val, y_val), abs=0.05
        )
        assert fitted.t_ == 5 * len(X_train)


def test_lbfgs_records_its_loss_curve(iris):
    X, y = iris
    clf = MLPClassifier((8,), solver="lbfgs", max_iter=30, random_state=0).fit(X, y)
    assert len(clf.loss_curve_) == clf.n_iter_
    assert clf.loss_curve_[-1] == pytest.approx(clf.loss_)


# --------------------------------------------------------------------------
# sklearn's callback API (sklearn.callback, scikit-learn >= 1.9)
# --------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_user_callback_sees_every_epoch_and_can_stop(iris, solver):
    pytest.importorskip("sklearn.callback")
    X, y = iris
    recorder = Recorder(stop_after=3)
    clf = MLPClassifier((8,), solver=solver, max_iter=50, random_state=0)
    clf.set_callbacks(recorder).fit(X, y)
    assert clf.n_iter_ == 3
    assert recorder.events[0] == ("setup", "fit") and recorder.events[-1] == ("teardown", "fit")
    task = "epoch" if solver == "adam" else "lbfgs-iter"
    assert recorder.events.count(("end", task)) == 3
    # fitted_estimator is a snapshot that predicts with that epoch's weights.
    assert 0 < recorder.scores[-1] <= 1


def test_sklearn_scoring_monitor_and_progress_bar(iris):
    callback = pytest.importorskip("sklearn.callback")
    X, y = iris
    monitor = callback.ScoringMonitor(scoring="accuracy")
    MLPClassifier((8,), max_iter=4, random_state=0).set_callbacks(monitor).fit(X, y)
    log = monitor.get_logs()
    assert log.estimator_name == "MLPClassifier"
    pytest.importorskip("rich")
    reg = MLPRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    reg.set_callbacks(callback.ProgressBar()).fit(X, y)
    assert reg.n_iter_ == 3


def test_callbacks_leave_no_state_behind(iris):
    pytest.importorskip("sklearn.callback")
    X, y = iris
    clf = MLPClassifier((8,), max_iter=2, random_state=0).set_callbacks(Recorder())
    clf.fit(X, y)
    assert not hasattr(clf, "_callback_fit_ctx") and not hasattr(clf, "_raw_data")
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 1


def test_float32_lbfgs_runs_as_long_as_float64():
    # The loss value is accumulated in float64 for L-BFGS: in float32 the
    # line search otherwise stalls once the loss is small (24 vs 160 iterations).
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    iters = {}
    for dtype in (np.float64, np.float32):
        clf = MLPClassifier((64,), solver="lbfgs", max_iter=200, tol=0, random_state=0)
        iters[dtype] = clf.fit(X.astype(dtype), y).n_iter_
        assert clf.coefs_[0].dtype == dtype
    assert iters[np.float32] > 0.7 * iters[np.float64]
