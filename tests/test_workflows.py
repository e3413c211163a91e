"""scikit-learn workflows with skdeep's estimators.

These tests exercise skdeep the way a scikit-learn user would: inside
pipelines and column transformers, under model selection, through clone and
pickle, with DataFrames, float32, sparse input, string / multilabel /
multioutput targets, sample weights, incremental and warm-started training,
early stopping, verbose output, warnings and input validation.
"""

import inspect
import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

from skdeep import MLPClassifier, MLPRegressor

ignore_convergence = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)

ESTIMATORS = [MLPClassifier, MLPRegressor]
STOCHASTIC = ["adam", "sgd"]
SOLVERS = ["adam", "sgd", "lbfgs"]


# --------------------------------------------------------------------------
# data helpers
# --------------------------------------------------------------------------


def clf_data(n_samples=120, n_features=5, n_classes=2, seed=0):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=min(n_features, 3),
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        class_sep=1.5,
        random_state=seed,
    )
    return StandardScaler().fit_transform(X), y


def reg_data(n_samples=120, n_features=5, n_targets=1, seed=0):
    X, y = make_regression(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_features,
        n_targets=n_targets,
        noise=0.1,
        random_state=seed,
    )
    return X, (y - y.mean(axis=0)) / y.std(axis=0)


def data_for(Estimator, **kwargs):
    return clf_data(**kwargs) if Estimator is MLPClassifier else reg_data(**kwargs)


def mixed_frame(n_samples=240, seed=0):
    """Seeded DataFrame with numeric and categorical columns plus targets."""
    rng = np.random.RandomState(seed)
    df = pd.DataFrame(
        {
            "age": rng.normal(40, 12, n_samples),
            "income": rng.lognormal(10, 0.5, n_samples),
            "score": rng.uniform(0, 100, n_samples),
            "color": rng.choice(["red", "green", "blue"], n_samples),
            "size": rng.choice(["S", "M", "L"], n_samples),
        }
    )
    color_effect = df["color"].map({"red": 1.5, "green": -1.0, "blue": 0.0})
    size_effect = df["size"].map({"S": -0.8, "M": 0.0, "L": 0.8})
    latent = (
        (df["age"] - 40) / 12
        + (df["score"] - 50) / 30
        + color_effect
        + size_effect
    ).to_numpy()
    y_reg = latent + rng.normal(0, 0.05, n_samples)
    y_clf = np.where(latent > 0, "approved", "rejected")
    return df, y_clf, y_reg


def mixed_preprocessor():
    return ColumnTransformer(
        [
            ("num", StandardScaler(), ["age", "income", "score"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["color", "size"]),
        ]
    )


# --------------------------------------------------------------------------
# API surface
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ours, theirs",
    [(MLPClassifier, SkMLPClassifier), (MLPRegressor, SkMLPRegressor)],
    ids=["classifier", "regressor"],
)
def test_constructor_signature_and_defaults_match_sklearn(ours, theirs):
    # sklearn's parameters come first, in sklearn's order, with sklearn's
    # defaults; skdeep's extensions follow and default to sklearn's behaviour.
    ours_params = list(inspect.signature(ours).parameters.values())
    theirs_params = list(inspect.signature(theirs).parameters.values())
    assert ours_params[: len(theirs_params)] == theirs_params
    assert all(p.kind == p.KEYWORD_ONLY for p in ours_params[len(theirs_params) :])
    ours_defaults = ours().get_params()
    assert {k: ours_defaults[k] for k in theirs().get_params()} == theirs().get_params()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_constructor_does_not_validate(Estimator):
    # scikit-learn convention: __init__ only stores parameters.
    est = Estimator(alpha=-1, activation="foo", hidden_layer_sizes="bar")
    assert est.alpha == -1
    assert est.activation == "foo"
    assert est.hidden_layer_sizes == "bar"


@ignore_convergence
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    "ours, theirs, task",
    [
        (MLPClassifier, SkMLPClassifier, "binary"),
        (MLPClassifier, SkMLPClassifier, "multiclass"),
        (MLPClassifier, SkMLPClassifier, "multilabel"),
        (MLPRegressor, SkMLPRegressor, "regression"),
        (MLPRegressor, SkMLPRegressor, "multioutput"),
    ],
    ids=["binary", "multiclass", "multilabel", "regression", "multioutput"],
)
def test_fitted_attributes_like_sklearn(ours, theirs, task, solver):
    if task == "binary":
        X, y = clf_data()
    elif task == "multiclass":
        X, y = clf_data(n_classes=3)
    elif task == "multilabel":
        X, y = make_multilabel_classification(
            n_samples=80, n_features=5, n_classes=3, random_state=0
        )
    elif task == "regression":
        X, y = reg_data()
    else:
        X, y = reg_data(n_targets=2)
    params = dict(hidden_layer_sizes=(7, 4), solver=solver, max_iter=15, random_state=0)
    a = ours(**params).fit(X, y)
    b = theirs(**params).fit(X, y)

    public = {k for k in vars(b) if k.endswith("_") and not k.startswith("_")}
    missing = public - set(vars(a))
    assert not missing, f"fitted attributes missing in skdeep: {sorted(missing)}"

    assert a.n_features_in_ == 5
    assert a.n_layers_ == b.n_layers_ == 4
    assert a.n_outputs_ == b.n_outputs_
    assert a.out_activation_ == b.out_activation_
    assert [c.shape for c in a.coefs_] == [c.shape for c in b.coefs_]
    assert [c.shape for c in a.intercepts_] == [c.shape for c in b.intercepts_]
    if hasattr(b, "classes_"):
        np.testing.assert_array_equal(a.classes_, b.classes_)
    if solver in STOCHASTIC:
        assert a.n_iter_ == len(a.loss_curve_)
        assert a.t_ == a.n_iter_ * X.shape[0]
        assert a.loss_ == a.loss_curve_[-1]
        assert a.best_loss_ == min(a.loss_curve_)
    assert a.predict(X).shape == b.predict(X).shape
    if hasattr(b, "predict_proba"):
        proba = a.predict_proba(X)
        assert proba.shape == b.predict_proba(X).shape
        with np.errstate(divide="ignore"):  # saturated probabilities give -inf
            log_proba = a.predict_log_proba(X)
        np.testing.assert_allclose(np.exp(log_proba), proba, rtol=1e-7, atol=1e-12)
        if task != "multilabel":
            np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    "y, expected",
    [
        (np.array([0, 1] * 20), "logistic"),
        (np.array([0, 1, 2, 3] * 10), "softmax"),
    ],
)
def test_output_activation_classifier(y, expected):
    X = np.random.RandomState(0).normal(size=(40, 3))
    clf = MLPClassifier(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.out_activation_ == expected


def test_poisson_regressor_uses_exp_output_and_predicts_positive():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 3))
    y = rng.poisson(np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1] + 0.5)).astype(float)
    reg = MLPRegressor(
        loss="poisson", hidden_layer_sizes=(5,), solver="lbfgs", random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    assert reg.out_activation_ == "exp"
    pred = reg.predict(X)
    assert np.all(pred > 0)
    assert np.corrcoef(pred, y)[0, 1] > 0.5


# --------------------------------------------------------------------------
# Pipelines and model selection
# --------------------------------------------------------------------------


@ignore_convergence
def test_column_transformer_pipeline_classifier_on_dataframe():
    df, y, _ = mixed_frame()
    X_train, X_test, y_train, y_test = train_test_split(
        df, y, test_size=0.25, random_state=0, stratify=y
    )
    pipe = Pipeline(
        [
            ("prep", mixed_preprocessor()),
            (
                "mlp",
                MLPClassifier(
                    hidden_layer_sizes=(16,), solver="lbfgs", max_iter=300, random_state=0
                ),
            ),
        ]
    ).fit(X_train, y_train)
    pred = pipe.predict(X_test)
    assert set(pred) <= {"approved", "rejected"}
    assert pipe.score(X_test, y_test) >= 0.85
    proba = pipe.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    np.testing.assert_array_equal(pipe.classes_, ["approved", "rejected"])
    # 3 scaled numeric columns + 3 + 3 one-hot columns
    assert pipe[-1].n_features_in_ == 9


@ignore_convergence
def test_column_transformer_pipeline_regressor_on_dataframe():
    df, _, y = mixed_frame()
    X_train, X_test, y_train, y_test = train_test_split(
        df, y, test_size=0.25, random_state=0
    )
    pipe = Pipeline(
        [
            ("prep", mixed_preprocessor()),
            (
                "mlp",
                MLPRegressor(
                    hidden_layer_sizes=(16,), solver="lbfgs", max_iter=500, random_state=0
                ),
            ),
        ]
    ).fit(X_train, y_train)
    assert pipe.predict(X_test).shape == (len(X_test),)
    assert pipe.score(X_test, y_test) >= 0.9


@ignore_convergence
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_grid_search_parallel(Estimator):
    X, y = data_for(Estimator, n_samples=90, n_features=4)
    grid = {"alpha": [1e-4, 1e-1], "hidden_layer_sizes": [(3,), (6,)]}
    search = GridSearchCV(
        Estimator(solver="lbfgs", max_iter=100, random_state=0),
        grid,
        cv=3,
        n_jobs=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_params_["alpha"] in grid["alpha"]
    assert search.best_params_["hidden_layer_sizes"] in grid["hidden_layer_sizes"]
    assert isinstance(search.best_estimator_, Estimator)
    assert search.best_estimator_.get_params()["alpha"] == search.best_params_["alpha"]
    assert search.predict(X).shape == y.shape
    assert search.best_score_ > 0.8


@ignore_convergence
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_cross_val_score(Estimator):
    X, y = data_for(Estimator, n_samples=120, n_features=4)
    scores = cross_val_score(
        Estimator(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=200, random_state=0),
        X,
        y,
        cv=3,
    )
    assert scores.shape == (3,)
    assert np.all(scores > 0.8)


@ignore_convergence
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_clone_gives_equal_params_and_unfitted_estimator(Estimator):
    X, y = data_for(Estimator, n_samples=40)
    est = Estimator(
        hidden_layer_sizes=(4, 3),
        activation="tanh",
        alpha=0.123,
        solver="sgd",
        max_iter=5,
        random_state=7,
    ).fit(X, y)
    cloned = clone(est)
    assert type(cloned) is type(est)
    assert cloned is not est
    assert cloned.get_params() == est.get_params()
    assert not hasattr(cloned, "coefs_")
    with pytest.raises(NotFittedError):
        check_is_fitted(cloned)
    with pytest.raises(NotFittedError):
        cloned.predict(X)
    # the original is untouched
    check_is_fitted(est)


@ignore_convergence
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_pickle_round_trip(Estimator, solver):
    X, y = data_for(Estimator, n_samples=60)
    est = Estimator(hidden_layer_sizes=(5,), solver=solver, max_iter=30, random_state=0)
    est.fit(X, y)
    restored = pickle.loads(pickle.dumps(est))
    assert type(restored) is type(est)
    assert restored.get_params() == est.get_params()
    assert np.array_equal(restored.predict(X), est.predict(X))
    for a, b in zip(restored.coefs_ + restored.intercepts_, est.coefs_ + est.intercepts_):
        assert np.array_equal(a, b)
    if Estimator is MLPClassifier:
        assert np.array_equal(restored.predict_proba(X), est.predict_proba(X))
        assert np.array_equal(restored.classes_, est.classes_)
    # a restored stochastic model can keep learning
    if solver in STOCHASTIC:
        kwargs = {"classes": est.classes_} if Estimator is MLPClassifier else {}
        restored.partial_fit(X, y, **kwargs)


def test_pickle_unfitted():
    est = MLPClassifier(hidden_layer_sizes=(3,), alpha=0.5)
    restored = pickle.loads(pickle.dumps(est))
    assert restored.get_params() == est.get_params()


# --------------------------------------------------------------------------
# Input types
# --------------------------------------------------------------------------


@ignore_convergence
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_dataframe_feature_names(Estimator):
    X, y = data_for(Estimator, n_samples=50, n_features=4)
    columns = ["alpha", "beta", "gamma", "delta"]
    df = pd.DataFrame(X, columns=columns)
    est = Estimator(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=20, random_state=0)
    est.fit(df, y)
    np.testing.assert_array_equal(est.feature_names_in_, columns)
    assert est.n_features_in_ == 4

    # same column names: no warning, and same result as the bare array
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        pred_df = est.predict(df)
    # a bare ndarray after fitting with names warns (like sklearn)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        pred_np = est.predict(X)
    np.testing.assert_array_equal(pred_df, pred_np)

    # renamed columns raise like sklearn
    renamed = df.rename(columns={"beta": "BETA"})
    with pytest.raises(ValueError, match="feature names should match"):
        est.predict(renamed)
    reordered = df[["beta", "alpha", "gamma", "delta"]]
    with pytest.raises(ValueError, match="feature names"):
        est.predict(reordered)


@ignore_convergence
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_ndarray_fit_has_no_feature_names(Estimator):
    X, y = data_for(Estimator, n_samples=40, n_features=3)
    est = Estimator(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=10).fit(X, y)
    assert not hasattr(est, "feature_names_in_")
    assert est.n_features_in_ == 3


@ignore_convergence
@pytest.mark.parametrize("solver", SOLVERS)
def test_float32_preserved(solver):
    # Note: scikit-learn 1.9 keeps float32 only for its stochastic solvers
    # (its lbfgs result comes back from scipy as float64); skdeep is required
    # to keep float32 for every solver.
    X, y = clf_data(n_samples=60)
    X32 = X.astype(np.float32)
    clf = MLPClassifier(hidden_layer_sizes=(5,), solver=solver, max_iter=10, random_state=0)
    clf.fit(X32, y)
    assert all(c.dtype == np.float32 for c in clf.coefs_)
    assert all(c.dtype == np.float32 for c in clf.intercepts_)
    proba = clf.predict_proba(X32)
    assert proba.dtype == np.float32
    assert np.all(np.isfinite(proba))

    Xr, yr = reg_data(n_samples=60)
    reg = MLPRegressor(hidden_layer_sizes=(5,), solver=solver, max_iter=10, random_state=0)
    reg.fit(Xr.astype(np.float32), yr.astype(np.float32))
    assert all(c.dtype == np.float32 for c in reg.coefs_)
    assert all(c.dtype == np.float32 for c in reg.intercepts_)
    assert reg.predict(Xr.astype(np.float32)).dtype == np.float32

    if solver in STOCHASTIC:
        # float32 training follows the float64 one closely (same init draws)
        clf64 = MLPClassifier(
            hidden_layer_sizes=(5,), solver=solver, max_iter=10, random_state=0
        ).fit(X, y)
        np.testing.assert_allclose(clf.coefs_[0], clf64.coefs_[0], rtol=1e-3, atol=1e-4)


@ignore_convergence
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_sparse_input_matches_dense(Estimator, solver, fmt):
    X, y = data_for(Estimator, n_samples=60, n_features=6)
    X[np.abs(X) < 0.7] = 0.0  # make it genuinely sparse
    X_sparse = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    params = dict(hidden_layer_sizes=(5,), solver=solver, max_iter=20, random_state=0)
    dense = Estimator(**params).fit(X, y)
    sparse = Estimator(**params).fit(X_sparse, y)
    for a, b in zip(dense.coefs_ + dense.intercepts_, sparse.coefs_ + sparse.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    # predicting on sparse input equals predicting on dense input
    if Estimator is MLPClassifier:
        np.testing.assert_allclose(
            dense.predict_proba(X_sparse), dense.predict_proba(X), rtol=1e-10
        )
        np.testing.assert_allclose(
            sparse.predict_proba(X_sparse), dense.predict_proba(X), rtol=1e-6, atol=1e-8
        )
    else:
        np.testing.assert_allclose(dense.predict(X_sparse), dense.predict(X), rtol=1e-10)
        np.testing.assert_allclose(
            sparse.predict(X_sparse), dense.predict(X), rtol=1e-6, atol=1e-8
        )


@ignore_convergence
def test_string_labels():
    X, y_int = clf_data(n_samples=90, n_classes=3)
    names = np.array(["setosa", "versicolor", "virginica"])
    y = names[y_int]
    clf = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=200, random_state=0)
    clf.fit(X, y)
    np.testing.assert_array_equal(clf.classes_, names)
    pred = clf.predict(X)
    assert pred.dtype.kind in "UO"
    assert set(pred) <= set(names)
    assert clf.score(X, y) > 0.9
    # predict is the argmax of predict_proba, mapped through classes_
    proba = clf.predict_proba(X)
    np.testing.assert_array_equal(pred, clf.classes_[proba.argmax(axis=1)])
    # same fit with integer labels gives the same probabilities
    clf_int = MLPClassifier(
        hidden_layer_sizes=(8,), solver="lbfgs", max_iter=200, random_state=0
    ).fit(X, y_int)
    np.testing.assert_allclose(clf_int.predict_proba(X), proba)


@ignore_convergence
def test_binary_string_labels():
    X, y_int = clf_data(n_samples=60)
    y = np.where(y_int == 1, "yes", "no")
    clf = MLPClassifier(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=100, random_state=0)
    clf.fit(X, y)
    np.testing.assert_array_equal(clf.classes_, ["no", "yes"])
    assert clf.predict_proba(X).shape == (60, 2)
    assert set(clf.predict(X)) <= {"no", "yes"}


@ignore_convergence
@pytest.mark.parametrize("solver", SOLVERS)
def test_multilabel_indicator(solver):
    X, Y = make_multilabel_classification(
        n_samples=100, n_features=6, n_classes=3, random_state=0
    )
    X = StandardScaler().fit_transform(X)
    clf = MLPClassifier(
        hidden_layer_sizes=(10,),
        solver=solver,
        max_iter=200,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X, Y)
    assert clf.n_outputs_ == 3
    assert clf.out_activation_ == "logistic"
    pred = clf.predict(X)
    assert pred.shape == Y.shape
    assert set(np.unique(pred)) <= {0, 1}
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(pred.dtype))
    # subset accuracy: far better than chance (1/8)
    assert clf.score(X, Y) > 0.5


@ignore_convergence
@pytest.mark.parametrize("solver", SOLVERS)
def test_multioutput_regression(solver):
    X, Y = reg_data(n_samples=120, n_targets=3)
    reg = MLPRegressor(
        hidden_layer_sizes=(16,),
        solver=solver,
        max_iter=300,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X, Y)
    assert reg.n_outputs_ == 3
    assert reg.coefs_[-1].shape == (16, 3)
    assert reg.predict(X).shape == (120, 3)
    assert reg.score(X, Y) > 0.9


# --------------------------------------------------------------------------
# Sample weights
# --------------------------------------------------------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_zero_sample_weight_equals_removing_samples(Estimator):
    X, y = data_for(Estimator, n_samples=60, n_features=4, seed=1)
    rng = np.random.RandomState(0)
    weights = (rng.uniform(size=60) > 0.3).astype(float)
    keep = weights > 0
    params = dict(
        hidden_layer_sizes=(4,),
        solver="lbfgs",
        alpha=1.0,  # a well-conditioned optimum, so both runs reach it
        max_iter=2000,
        tol=1e-12,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = Estimator(**params).fit(X, y, sample_weight=weights)
        removed = Estimator(**params).fit(X[keep], y[keep])
    for a, b in zip(
        weighted.coefs_ + weighted.intercepts_, removed.coefs_ + removed.intercepts_
    ):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weighted.loss_, removed.loss_, rtol=1e-6)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_integer_sample_weight_equals_repetition(Estimator):
    X, y = data_for(Estimator, n_samples=50, n_features=4, seed=2)
    rng = np.random.RandomState(0)
    weights = rng.randint(1, 4, size=50)
    params = dict(
        hidden_layer_sizes=(4,),
        solver="lbfgs",
        alpha=1.0,  # a well-conditioned optimum, so both runs reach it
        max_iter=2000,
        tol=1e-12,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = Estimator(**params).fit(X, y, sample_weight=weights)
        repeated = Estimator(**params).fit(
            np.repeat(X, weights, axis=0), np.repeat(y, weights, axis=0)
        )
    for a, b in zip(
        weighted.coefs_ + weighted.intercepts_, repeated.coefs_ + repeated.intercepts_
    ):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weighted.loss_, repeated.loss_, rtol=1e-6)


@ignore_convergence
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_unit_sample_weight_equals_no_weight(Estimator):
    X, y = data_for(Estimator, n_samples=50, n_features=4)
    params = dict(hidden_layer_sizes=(4,), solver="adam", max_iter=10, random_state=0)
    a = Estimator(**params).fit(X, y)
    b = Estimator(**params).fit(X, y, sample_weight=np.ones(50))
    for ca, cb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(ca, cb, rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------
# Incremental learning, warm start, early stopping
# --------------------------------------------------------------------------


@pytest.mark.parametrize("solver", STOCHASTIC)
def test_partial_fit_classifier(solver):
    X, y = clf_data(n_samples=100, n_classes=3)
    clf = MLPClassifier(
        hidden_layer_sizes=(10,), solver=solver, learning_rate_init=0.01, random_state=0
    )
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    # first call only sees two of the three classes: classes= is what counts
    first = y != 2
    clf.partial_fit(X[first], y[first], classes=np.array([0, 1, 2]))
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.predict_proba(X).shape == (100, 3)
    losses = [clf.loss_]
    for _ in range(30):
        clf.partial_fit(X, y)
        losses.append(clf.loss_)
    assert clf.n_iter_ >= 1
    assert len(clf.loss_curve_) == 31
    assert clf.t_ == first.sum() + 30 * 100
    assert losses[-1] < losses[1]
    assert clf.score(X, y) > 0.8


@pytest.mark.parametrize("solver", STOCHASTIC)
def test_partial_fit_regressor(solver):
    X, y = reg_data(n_samples=100)
    reg = MLPRegressor(
        hidden_layer_sizes=(10,), solver=solver, learning_rate_init=0.01, random_state=0
    )
    for _ in range(40):
        reg.partial_fit(X, y)
    assert len(reg.loss_curve_) == 40
    assert reg.t_ == 40 * 100
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]
    assert reg.score(X, y) > 0.8


@ignore_convergence
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_partial_fit_equals_one_epoch_of_fit(Estimator):
    # one partial_fit from scratch == fit with max_iter=1 (same random_state)
    X, y = data_for(Estimator, n_samples=50)
    params = dict(hidden_layer_sizes=(5,), solver="sgd", random_state=0)
    a = Estimator(max_iter=1, **params).fit(X, y)
    b = Estimator(**params)
    if Estimator is MLPClassifier:
        b.partial_fit(X, y, classes=np.unique(y))
    else:
        b.partial_fit(X, y)
    for ca, cb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(ca, cb, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_partial_fit_unavailable_for_lbfgs(Estimator):
    # Note: scikit-learn 1.9's own MLPRegressor gets this wrong (its
    # available_if lambda returns the bound method instead of calling it);
    # skdeep is required to hide partial_fit for lbfgs on both estimators.
    assert not hasattr(Estimator(solver="lbfgs"), "partial_fit")
    assert hasattr(Estimator(solver="sgd"), "partial_fit")
    assert hasattr(Estimator(solver="adam"), "partial_fit")
    assert hasattr(Estimator(), "partial_fit")  # default solver is adam


@ignore_convergence
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_warm_start_continues_from_previous_coefs(Estimator):
    # Plain SGD (no momentum, constant rate, no shuffling) has no optimizer
    # state, so 5 + 5 warm-started epochs must equal 10 epochs in one go.
    X, y = data_for(Estimator, n_samples=60)
    params = dict(
        hidden_layer_sizes=(6,),
        solver="sgd",
        momentum=0.0,
        learning_rate="constant",
        learning_rate_init=0.05,
        shuffle=False,
        n_iter_no_change=1000,
        random_state=0,
    )
    warm = Estimator(warm_start=True, max_iter=5, **params).fit(X, y)
    after_first = [c.copy() for c in warm.coefs_]
    first_curve = list(warm.loss_curve_)
    warm.fit(X, y)
    once = Estimator(max_iter=10, **params).fit(X, y)
    for a, b in zip(warm.coefs_ + warm.intercepts_, once.coefs_ + once.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert not np.allclose(warm.coefs_[0], after_first[0])
    # the loss curve keeps growing and continues where it left off
    assert len(warm.loss_curve_) == 10
    assert warm.loss_curve_[:5] == first_curve
    np.testing.assert_allclose(warm.loss_curve_, once.loss_curve_, rtol=1e-10)

    # without warm_start a second fit restarts from the same initialisation
    cold = Estimator(max_iter=5, **params).fit(X, y)
    cold.fit(X, y)
    for a, b in zip(cold.coefs_, after_first):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@ignore_convergence
def test_warm_start_lbfgs_starts_from_previous_solution():
    X, y = clf_data(n_samples=80)
    params = dict(hidden_layer_sizes=(6,), solver="lbfgs", alpha=1e-3, random_state=0)
    warm = MLPClassifier(warm_start=True, max_iter=5, **params).fit(X, y)
    loss_after_5 = warm.loss_
    warm.fit(X, y)
    cold = MLPClassifier(max_iter=5, **params).fit(X, y)
    assert warm.loss_ < loss_after_5
    assert warm.loss_ < cold.loss_


@ignore_convergence
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_early_stopping_attributes(Estimator):
    X, y = data_for(Estimator, n_samples=150)
    est = Estimator(
        hidden_layer_sizes=(8,),
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=3,
        max_iter=200,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X, y)
    assert est.best_loss_ is None
    assert isinstance(est.validation_scores_, list)
    assert len(est.validation_scores_) == est.n_iter_ == len(est.loss_curve_)
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.n_iter_ < 200  # it did stop early
    # the restored best weights achieve the best validation score
    assert est.best_validation_score_ > 0.7


@ignore_convergence
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_no_early_stopping_attributes(Estimator):
    X, y = data_for(Estimator, n_samples=60)
    est = Estimator(hidden_layer_sizes=(4,), max_iter=20, random_state=0).fit(X, y)
    assert est.validation_scores_ is None
    assert est.best_validation_score_ is None
    assert est.best_loss_ == min(est.loss_curve_)


# --------------------------------------------------------------------------
# Determinism and parameters
# --------------------------------------------------------------------------


@ignore_convergence
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_same_random_state_is_bit_identical(Estimator, solver):
    X, y = data_for(Estimator, n_samples=80)
    params = dict(hidden_layer_sizes=(6, 4), solver=solver, max_iter=20, random_state=42)
    a = Estimator(**params).fit(X, y)
    b = Estimator(**params).fit(X, y)
    for ca, cb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert np.array_equal(ca, cb)
    assert a.loss_ == b.loss_
    c = Estimator(**{**params, "random_state": 43}).fit(X, y)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


@ignore_convergence
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_random_state_instance_is_accepted(Estimator):
    X, y = data_for(Estimator, n_samples=40)
    a = Estimator(hidden_layer_sizes=(3,), max_iter=5, random_state=np.random.RandomState(0))
    b = Estimator(hidden_layer_sizes=(3,), max_iter=5, random_state=0)
    a.fit(X, y)
    b.fit(X, y)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])


@ignore_convergence
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_assigning_coefs_changes_predictions(Estimator):
    X, y = data_for(Estimator, n_samples=60)
    est = Estimator(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=50, random_state=0)
    est.fit(X, y)
    original_coefs = [c.copy() for c in est.coefs_]
    original_intercepts = [c.copy() for c in est.intercepts_]
    out = est.predict_proba if Estimator is MLPClassifier else est.predict
    before = out(X)

    est.coefs_ = [-2.0 * c for c in original_coefs]
    changed = out(X)
    assert not np.allclose(changed, before)

    # all-zero weights: the output only depends on the last intercept
    est.coefs_ = [np.zeros_like(c) for c in original_coefs]
    constant = out(X)
    assert np.allclose(constant, constant[0])
    if Estimator is MLPRegressor:
        np.testing.assert_allclose(constant, est.intercepts_[-1][0])

    est.intercepts_ = [np.zeros_like(b) for b in original_intercepts]
    if Estimator is MLPRegressor:
        np.testing.assert_allclose(out(X), 0.0)
    else:
        np.testing.assert_allclose(out(X), 0.5)

    # restoring the weights restores the predictions exactly
    est.coefs_ = original_coefs
    est.intercepts_ = original_intercepts
    assert np.array_equal(out(X), before)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_verbose_prints_one_line_per_epoch(Estimator, capsys):
    X, y = data_for(Estimator, n_samples=40)
    est = Estimator(
        hidden_layer_sizes=(3,), verbose=True, max_iter=7, n_iter_no_change=100,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("Iteration")]
    assert len(lines) == est.n_iter_ == 7
    for i, (line, loss) in enumerate(zip(lines, est.loss_curve_), start=1):
        # verbose=True prints sklearn's line exactly (issue 15); verbose=2
        # adds the time, see test_fidelity.py.
        match = re.fullmatch(r"Iteration (\d+), loss = ([0-9.eE+-]+)", line.strip())
        assert match, line
        assert int(match.group(1)) == i
        assert float(match.group(2)) == pytest.approx(loss, abs=1e-8)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_not_verbose_prints_nothing(Estimator, capsys):
    X, y = data_for(Estimator, n_samples=40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Estimator(hidden_layer_sizes=(3,), max_iter=3, random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_convergence_warning_when_max_iter_reached(Estimator, solver):
    X, y = data_for(Estimator, n_samples=60)
    est = Estimator(hidden_layer_sizes=(5,), solver=solver, max_iter=2, random_state=0)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    assert est.n_iter_ == 2


@pytest.mark.parametrize(
    "params",
    [
        {"alpha": -1.0},
        {"activation": "foo"},
        {"solver": "bar"},
        {"learning_rate": "fast"},
        {"learning_rate_init": 0.0},
        {"max_iter": 0},
        {"momentum": 1.5},
        {"validation_fraction": 1.0},
        {"beta_1": 1.0},
        {"beta_2": -0.1},
        {"epsilon": 0.0},
        {"batch_size": 0},
        {"batch_size": "big"},
        {"hidden_layer_sizes": 0},
        {"n_iter_no_change": 0},
        {"tol": -1.0},
        {"power_t": -0.5},
        {"max_fun": 0},
        {"shuffle": "yes"},
        {"lbfgs_objective": "exactly"},
    ],
    ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()),
)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_invalid_parameter_raises_at_fit(Estimator, params):
    X, y = data_for(Estimator, n_samples=20, n_features=3)
    est = Estimator(**params)  # no error at construction
    with pytest.raises(InvalidParameterError, match=next(iter(params))):
        est.fit(X, y)


def test_invalid_regressor_loss_raises():
    X, y = reg_data(n_samples=20, n_features=3)
    with pytest.raises(InvalidParameterError, match="loss"):
        MLPRegressor(loss="hinge").fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_non_positive_hidden_layer_size_raises(Estimator):
    X, y = data_for(Estimator, n_samples=20, n_features=3)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        Estimator(hidden_layer_sizes=(5, 0)).fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_non_finite_input_raises(Estimator, bad):
    X, y = data_for(Estimator, n_samples=30, n_features=3)
    X_bad = X.copy()
    X_bad[3, 1] = bad
    word = "NaN" if np.isnan(bad) else "infinity"
    with pytest.raises(ValueError, match=word):
        Estimator(hidden_layer_sizes=(3,), max_iter=5).fit(X_bad, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Estimator(hidden_layer_sizes=(3,), max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match=word):
        est.predict(X_bad)


def test_nan_in_regression_target_raises():
    X, y = reg_data(n_samples=30, n_features=3)
    y[4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MLPRegressor(max_iter=5).fit(X, y)


@ignore_convergence
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_wrong_number_of_features_at_predict(Estimator):
    X, y = data_for(Estimator, n_samples=30, n_features=4)
    est = Estimator(hidden_layer_sizes=(3,), max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features"):
        est.predict(X[:, :3])
    if Estimator is MLPClassifier:
        with pytest.raises(ValueError, match="features"):
            est.predict_proba(np.hstack([X, X]))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_predict_before_fit_raises(Estimator):
    with pytest.raises(NotFittedError):
        Estimator().predict(np.zeros((2, 3)))


# --------------------------------------------------------------------------
# No hidden layer
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n_classes", [2, 3])
def test_no_hidden_layer_classifier_is_logistic_model(n_classes):
    X, y = clf_data(n_samples=120, n_features=4, n_classes=n_classes)
    clf = MLPClassifier(hidden_layer_sizes=(), solver="lbfgs", max_iter=500, random_state=0)
    clf.fit(X, y)
    n_out = 1 if n_classes == 2 else n_classes
    assert clf.n_layers_ == 2
    assert len(clf.coefs_) == len(clf.intercepts_) == 1
    assert clf.coefs_[0].shape == (4, n_out)
    assert clf.intercepts_[0].shape == (n_out,)
    assert clf.score(X, y) > 0.9


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_no_hidden_layer_regressor_is_linear_model(solver):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 3))
    w = np.array([1.5, -2.0, 0.5])
    y = X @ w + 3.0
    reg = MLPRegressor(
        hidden_layer_sizes=(),
        solver=solver,
        alpha=0.0,
        tol=1e-10,
        max_iter=2000 if solver == "lbfgs" else 600,
        learning_rate_init=0.05,
        n_iter_no_change=50,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    assert reg.n_layers_ == 2
    assert reg.coefs_[0].shape == (3, 1)
    atol = 1e-4 if solver == "lbfgs" else 5e-2
    np.testing.assert_allclose(reg.coefs_[0].ravel(), w, atol=atol)
    np.testing.assert_allclose(reg.intercepts_[0], [3.0], atol=atol)
    # predictions are exactly the affine map of the learned parameters
    np.testing.assert_allclose(
        reg.predict(X), X @ reg.coefs_[0].ravel() + reg.intercepts_[0][0], rtol=1e-12
    )
