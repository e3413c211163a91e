"""What a second fuzzer found (issue 32): one test per numbered case, then a property.

Each ``test_case_NN_*`` pins the fix of case NN of the issue and fails on the
code before it (commit d594d15). HistGradientBoosting's behaviour on the same
input is the reference for what a user expects. The property at the end
fits the tabular estimators on random mixed-dtype frames: fit and predict
give finite outputs of the right shape or a clear ValueError / TypeError,
and the caller's data is never changed.

Everything runs on tiny data, with tiny networks and a few epochs.
"""

import os
import threading
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sklearn import config_context
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score

from skdeep import (
    MLPClassifier,
    MLPFeatures,
    MLPRegressor,
    TabularMLPClassifier,
    TabularMLPRegressor,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

#: A tiny tabular model: one network, one small layer, two epochs.
TINY = dict(hidden_layer_sizes=(8,), max_iter=2, n_networks=1, random_state=0)


def mixed_frame(n=60, seed=0):
    """A numeric column, a string column and a categorical column, and a target."""
    rng = np.random.RandomState(seed)
    a = rng.normal(size=n)
    city = rng.choice(["x", "y", "z"], n)
    frame = pd.DataFrame({
        "a": a,
        "city": city,
        "size": pd.Categorical(rng.choice(["s", "m", "l"], n)),
    })
    return frame, ((a > 0) ^ (city == "x")).astype(int)


# --------------------------------------------------------------------------
# High
# --------------------------------------------------------------------------
@pytest.mark.parametrize("form", ["categorical frame", "string frame", "string array"])
@pytest.mark.parametrize("Estimator", [TabularMLPClassifier, TabularMLPRegressor])
def test_case_01_tables_without_numeric_columns_fit(form, Estimator):
    frame, y = mixed_frame()
    X = frame[["city", "size"]]
    if form == "string frame":
        X = X.astype(str)
    elif form == "string array":
        X = X.to_numpy(dtype=str)
    HistGradientBoostingClassifier(max_iter=2, categorical_features="from_dtype").fit(
        frame[["city", "size"]].astype("category"), y
    )  # the reference fits the categorical version
    model = Estimator(**TINY).fit(X, y)
    predictions = model.predict(X)
    assert predictions.shape == (len(y),)
    assert model.is_categorical_.all()
    if Estimator is TabularMLPClassifier:
        proba = model.predict_proba(X)
        assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1)
    else:
        assert np.isfinite(predictions).all()


def timestamps(n=200, seed=0):
    """Random instants over three years, and whether each is after mid-2021."""
    rng = np.random.RandomState(seed)
    seconds = rng.randint(0, 3 * 365 * 86400, n)
    when = pd.Series(pd.Timestamp("2020-01-01") + pd.to_timedelta(seconds, unit="s"))
    return when, (when > pd.Timestamp("2021-06-01")).to_numpy().astype(int)


@pytest.mark.parametrize("Estimator", [TabularMLPClassifier, TabularMLPRegressor])
def test_case_02_datetimes_do_not_depend_on_their_unit_or_time_zone(Estimator):
    when, y = timestamps()
    other = np.random.RandomState(1).normal(size=len(y))
    fit_frame = pd.DataFrame({"when": when.astype("datetime64[s]"), "other": other})
    model = Estimator(**TINY).fit(fit_frame, y)
    assert model.time_kinds_.tolist() == ["datetime", ""]
    expected = model.predict(fit_frame)
    for same_instants in (when.astype("datetime64[us]"), when.astype("datetime64[ns]"),
                          when.dt.tz_localize("UTC").dt.tz_convert("Asia/Tokyo")):
        predicted = model.predict(fit_frame.assign(when=same_instants))
        np.testing.assert_array_equal(predicted, expected)


def test_case_02_datetimes_are_learned_as_instants():
    when, y = timestamps(300)
    clf = TabularMLPClassifier(hidden_layer_sizes=(32,), max_iter=10, n_networks=1,
                               random_state=0)
    clf.fit(pd.DataFrame({"when": when.astype("datetime64[s]")}), y)
    # Before the fix, the [us] values were a million times the [s] ones: 0.49.
    assert clf.score(pd.DataFrame({"when": when.astype("datetime64[us]")}), y) > 0.9


def test_case_02_durations_and_missing_times():
    when, y = timestamps()
    since = when - when.min()
    since[::7] = pd.NaT
    X = pd.DataFrame({"since": since})
    model = TabularMLPRegressor(**TINY).fit(X, y)
    assert model.time_kinds_.tolist() == ["timedelta"]
    assert model.missing_indicator_.tolist() == [True]
    as_ms = pd.DataFrame({"since": since.astype("timedelta64[ms]")})
    np.testing.assert_array_equal(model.predict(as_ms), model.predict(X))


@pytest.mark.parametrize("column, message", [
    (lambda when: when.astype("int64"), "'when' held datetime values .* int64"),
    (lambda when: when - when.min(), "'when' held datetime values .* timedelta64"),
])
def test_case_02_a_time_column_keeps_its_kind(column, message):
    when, y = timestamps()
    model = TabularMLPClassifier(**TINY).fit(pd.DataFrame({"when": when}), y)
    with pytest.raises(ValueError, match=message):
        model.predict(pd.DataFrame({"when": column(when)}))


def test_case_02_a_numeric_column_may_not_become_a_time_column():
    when, y = timestamps()
    model = TabularMLPClassifier(**TINY).fit(pd.DataFrame({"when": when.astype("int64")}), y)
    with pytest.raises(ValueError, match="'when' was numeric .* datetime64"):
        model.predict(pd.DataFrame({"when": when}))


@pytest.mark.parametrize("clip", [3.0, None])
@pytest.mark.parametrize("Estimator", [TabularMLPClassifier, TabularMLPRegressor])
def test_case_03_huge_values_act_like_the_largest_ones(Estimator, clip):
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    y = (X["a"] > 0).astype(int)
    model = Estimator(**dict(TINY, max_iter=10, hidden_layer_sizes=(16,)), clip=clip).fit(X, y)
    largest = [10.0, 1e10, 1e100, 1e160, 1e300, np.finfo(float).max]
    for sign in (1, -1):
        rows = pd.DataFrame({"a": sign * np.array(largest), "b": 0.0})
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            predicted = (model.predict_proba(rows) if Estimator is TabularMLPClassifier
                         else model.predict(rows))
        assert np.isfinite(predicted).all()
        # From 1e10 on, the smooth clip is 3 to the last bit; without clipping, from
        # 1e100 on the scaled values are at their bound: each is predicted alike.
        first_at_bound = 1 if clip else 2
        at_bound = predicted[first_at_bound:]
        np.testing.assert_array_equal(at_bound, np.broadcast_to(at_bound[0], at_bound.shape))
        if Estimator is TabularMLPClassifier:
            # Before the fix, 1e160 and beyond were predicted as the median, class 0 or 1
            # at chance; now as the largest (or smallest) values.
            assert (model.predict(rows) == (sign > 0)).all()


@pytest.mark.parametrize("clip", [3.0, None])
@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_case_03_infinity_is_refused_at_predict_as_at_fit(value, clip):
    X, y = mixed_frame()
    model = TabularMLPClassifier(**TINY, clip=clip)
    with pytest.raises(ValueError, match="Column 'a' contains infinity"):
        model.fit(X.assign(a=X["a"].where(X.index != 3, value)), y)
    model.fit(X, y)
    with pytest.raises(ValueError, match="Column 'a' contains infinity"):
        model.predict(X.assign(a=value))
    with pytest.raises(ValueError, match="Column 'a' contains infinity"):
        TabularMLPClassifier(**TINY, clip=clip).fit(X, y, X_val=X.assign(a=value), y_val=y)


# --------------------------------------------------------------------------
# skdeep.dask: on one two-worker cluster, in the xdist group of the Dask tests
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client():
    pytest.importorskip("distributed")
    import importlib

    from _dask_cluster import two_worker_client

    with two_worker_client() as client:
        client.run(importlib.import_module, "skdeep.dask")
        yield client


def dask_data(chunks=(100, 100, 100), seed=0):
    """300 rows of a binary problem as Dask arrays with the given row chunks."""
    da = pytest.importorskip("dask.array")
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(sum(chunks), 3))
    y = (X[:, 0] + 0.3 * rng.normal(size=len(X)) > 0).astype(int)
    return X, y, da.from_array(X, chunks=(chunks, -1)), da.from_array(y, chunks=(chunks,))


@pytest.mark.xdist_group("dask-cluster")
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_case_04_dask_weights_zero_on_one_block(client, solver):
    from skdeep import MLPClassifier as LocalClassifier
    from skdeep.dask import MLPClassifier

    da = pytest.importorskip("dask.array")
    X, y, X_dask, y_dask = dask_data()
    weights = np.ones(len(y))
    weights[100:200] = 0.0
    settings = dict(hidden_layer_sizes=(4,), max_iter=5, solver=solver, random_state=0)
    model = MLPClassifier(**settings).fit(X_dask, y_dask,
                                          sample_weight=da.from_array(weights, chunks=100))
    assert np.isfinite(model.predict_proba(X)).all()
    if solver == "lbfgs":
        # The exact in-memory objective: rows of weight 0 count for nothing.
        local = LocalClassifier(**settings).fit(X, y, sample_weight=weights)
        for ours, theirs in zip(model.coefs_, local.coefs_):
            np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="sum to zero"):
        MLPClassifier(**settings).fit(X_dask, y_dask,
                                      sample_weight=da.from_array(0 * weights, chunks=100))


@pytest.mark.xdist_group("dask-cluster")
def test_case_05_dask_lazy_predictions_with_an_empty_row_chunk(client):
    from skdeep.dask import MLPClassifier, MLPRegressor

    chunks = (100, 0, 200)
    X, y, X_dask, y_dask = dask_data(chunks)
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X_dask, y_dask)
    for method in ("predict", "predict_proba", "predict_log_proba", "predict_logits"):
        lazy = getattr(clf, method)(X_dask)
        assert lazy.chunks[0] == chunks
        np.testing.assert_array_equal(lazy.compute(), getattr(clf, method)(X))
    reg = MLPRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    reg.fit(X_dask, X_dask[:, 0])
    np.testing.assert_array_equal(reg.predict(X_dask).compute(), reg.predict(X))


@pytest.mark.parametrize("early_stopping", [True, False])
def test_case_06_continuous_target_refused_by_the_classifier(early_stopping):
    X, _ = mixed_frame()
    y = np.random.RandomState(0).normal(size=len(X))
    clf = TabularMLPClassifier(**TINY, early_stopping=early_stopping)
    with pytest.raises(ValueError, match="Unknown label type of y: continuous"):
        clf.fit(X, y)
    assert not hasattr(clf, "classes_")
    # Whole-valued floats are classes, as for sklearn's classifiers.
    assert clf.fit(X, np.round(y).clip(-1, 1)).classes_.tolist() == [-1.0, 0.0, 1.0]


def many_categories_frame(n=120, seed=0):
    """A numeric column and a string column of 12 categories (embedded)."""
    rng = np.random.RandomState(seed)
    a = rng.normal(size=n)
    code = rng.randint(12, size=n)
    frame = pd.DataFrame({"a": a, "code": np.array(list("abcdefghijkl"))[code]})
    return frame, a + (code % 3) + 0.1 * rng.normal(size=n)


@pytest.mark.parametrize("n_networks", [1, 2])
@pytest.mark.parametrize("change", [
    dict(clip=None), dict(clip=0.5), dict(embedding_dim=4), dict(activation="relu"),
    dict(loss="squared_error", quantile=None), dict(quantile=[0.2, 0.8]),
    dict(quantile=0.5), dict(loss="squared_error"),
])
def test_case_07_regressor_predicts_from_its_fitted_state(change, n_networks):
    X, y = many_categories_frame()
    model = TabularMLPRegressor(**dict(TINY, n_networks=n_networks), loss="quantile",
                                quantile=[0.1, 0.5, 0.9]).fit(X, y)
    assert model.quantile_levels_.tolist() == [0.1, 0.5, 0.9]
    expected = model.predict(X)
    model.set_params(**change)
    np.testing.assert_array_equal(model.predict(X), expected)
    assert model.score(X, y) == pytest.approx(
        np.mean([1 - ((y - q) ** 2).sum() / ((y - y.mean()) ** 2).sum() for q in expected.T])
    )


@pytest.mark.parametrize("change", [
    dict(clip=None), dict(embedding_dim=3), dict(activation="tanh"), dict(label_smoothing=0.9),
    dict(max_one_hot=100),
])
def test_case_07_classifier_predicts_from_its_fitted_state(change):
    X, y = many_categories_frame()
    labels = (y > np.median(y)).astype(int)
    clf = TabularMLPClassifier(**TINY).fit(X, labels)
    expected = clf.predict_proba(X)
    clf.set_params(**change)
    np.testing.assert_array_equal(clf.predict_proba(X), expected)
    features = MLPFeatures(TabularMLPClassifier(**TINY), include_embeddings=True).fit(X, labels)
    expected = features.transform(X)
    features.estimator_.set_params(**change)
    np.testing.assert_array_equal(features.transform(X), expected)


def test_case_07_predict_during_set_params_and_fit_sees_old_or_new_model():
    X, y = many_categories_frame()
    labels = (y > np.median(y)).astype(int)
    clf = TabularMLPClassifier(**TINY).fit(X, labels)
    old = clf.predict_proba(X)
    seen, stop = [], threading.Event()

    def predict_repeatedly():
        while not stop.is_set():
            seen.append(clf.predict_proba(X))

    thread = threading.Thread(target=predict_repeatedly)
    thread.start()
    try:
        clf.set_params(clip=None, embedding_dim=3, activation="relu", random_state=1)
        clf.fit(X, labels)
    finally:
        stop.set()
        thread.join()
    new = clf.predict_proba(X)
    assert seen
    for proba in seen:
        assert np.array_equal(proba, old) or np.array_equal(proba, new)


@pytest.mark.parametrize("scoring", ["r2", "neg_mean_absolute_error", "neg_mean_squared_error",
                                     "explained_variance"])
@pytest.mark.parametrize("Estimator", [MLPRegressor, TabularMLPRegressor])
def test_case_08_several_quantiles_refuse_a_named_scorer_before_training(Estimator, scoring):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 3))
    y = X[:, 0] + rng.normal(size=80)
    settings = dict(loss="quantile", quantile=[0.1, 0.9], max_iter=2, early_stopping=True,
                    hidden_layer_sizes=(8,), random_state=0)
    if Estimator is TabularMLPRegressor:
        settings["n_networks"] = 1
    model = Estimator(**settings, scoring=scoring)
    with pytest.raises(ValueError, match=f"scoring='{scoring}' .* 2 quantile levels predict 2"):
        model.fit(X, y, X_val=X[:20], y_val=y[:20])
    assert not hasattr(model, "coefs_")
    # The validation loss, and a scorer that handles one column per level, still work.
    model.set_params(scoring="loss").fit(X, y)

    def mean_r2(estimator, X, y):
        return np.mean([r2_score(y, q) for q in estimator.predict(X).T])

    assert len(model.set_params(scoring=mean_r2).fit(X, y).validation_scores_) == 2
    # One level predicts one column: named scorers are fine.
    model.set_params(quantile=0.5, scoring=scoring).fit(X, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_case_09_several_quantiles_export_in_float64(dtype):
    onnxruntime = pytest.importorskip("onnxruntime")
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skdeep import register_skl2onnx_converters, to_onnx

    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 3))
    y = X[:, 0] + rng.normal(size=100)
    model = MLPRegressor(loss="quantile", quantile=[0.1, 0.5, 0.9], hidden_layer_sizes=(8,),
                         max_iter=20, random_state=0).fit(X, y)
    expected = model.predict(X)
    pipeline = make_pipeline(StandardScaler(), clone(model)).fit(X, y)
    register_skl2onnx_converters()
    tolerance = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5,
                                                                               atol=1e-5)
    for exported, wanted in ((to_onnx(model, dtype=dtype), expected),
                             (skl2onnx.to_onnx(pipeline, X[:1].astype(dtype)),
                              pipeline.predict(X))):
        session = onnxruntime.InferenceSession(exported.SerializeToString(),
                                               providers=["CPUExecutionProvider"])
        (quantiles,) = session.run(None, {"X": X.astype(dtype)})
        assert quantiles.dtype == dtype
        np.testing.assert_allclose(quantiles, wanted, **tolerance)


@pytest.mark.filterwarnings("ignore:A column-vector y was passed")
@pytest.mark.parametrize("y_columns, y_val_columns", [(2, None), (2, 3), (None, 2)])
@pytest.mark.parametrize("Estimator", [MLPRegressor, TabularMLPRegressor])
def test_case_10_validation_target_needs_the_columns_of_y(Estimator, y_columns, y_val_columns):
    rng = np.random.RandomState(0)
    X, Y = rng.normal(size=(60, 3)), rng.normal(size=(60, 3))
    y = Y[:, 0] if y_columns is None else Y[:, :y_columns]
    y_val = Y[:20, 0] if y_val_columns is None else Y[:20, :y_val_columns]
    settings = dict(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    if Estimator is TabularMLPRegressor:
        settings["n_networks"] = 2
    model = Estimator(**settings)
    with pytest.raises(ValueError, match=r"y_val has \d column\(s\) .* but y has \d"):
        model.fit(X, y, X_val=X[:20], y_val=y_val)
    assert not hasattr(model, "coefs_")
    # A single column and a 1-D target are alike.
    model.fit(X, Y[:, :1], X_val=X[:20], y_val=Y[:20, 0])


def test_case_10_classifiers_name_y_val_too():
    X, y = mixed_frame()
    with pytest.raises(ValueError, match="y_val must be 1-D class labels"):
        TabularMLPClassifier(**TINY).fit(X, y, X_val=X[:10], y_val=np.column_stack([y, y])[:10])


@pytest.mark.xdist_group("dask-cluster")
def test_case_10_dask_validation_target_needs_the_columns_of_y(client):
    from skdeep.dask import MLPRegressor as DaskRegressor

    da = pytest.importorskip("dask.array")
    X, _, X_dask, _ = dask_data()
    Y = da.from_array(np.column_stack([X[:, 0], X[:, 1]]), chunks=(100, -1))
    model = DaskRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    with pytest.raises(ValueError, match=r"y_val has 1 column\(s\) .* but y has 2"):
        model.fit(X_dask, Y, X_val=X_dask[:100], y_val=Y[:100, 0])


def test_case_11_arrow_dictionary_columns_from_parquet_are_categorical(tmp_path):
    pytest.importorskip("pyarrow")
    X, y = mixed_frame()
    X = X.assign(city=X["city"].astype("category"))
    X.to_parquet(tmp_path / "table.parquet")
    arrow = pd.read_parquet(tmp_path / "table.parquet", dtype_backend="pyarrow")
    assert str(arrow["city"].dtype).startswith("dictionary")
    HistGradientBoostingClassifier(max_iter=2, categorical_features="from_dtype").fit(X, y)
    model = TabularMLPClassifier(**TINY).fit(arrow, y)
    assert model.is_categorical_.tolist() == [False, True, True]
    assert sorted(model.categories_[0]) == ["x", "y", "z"]
    # The same table with NumPy / pandas dtypes is encoded alike.
    np.testing.assert_array_equal(model.predict_proba(arrow), model.predict_proba(X))
    mlp = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0,
                        categorical_features="from_dtype").fit(arrow, y)
    assert mlp.is_categorical_.tolist() == [False, True, True]


def test_case_11_other_column_kinds_are_categorical_or_refused_by_name():
    pa = pytest.importorskip("pyarrow")
    X, y = mixed_frame()
    intervals = pd.Series(pd.cut(X["a"], [-10, -1, 0, 1, 10]).to_numpy())  # interval dtype
    assert isinstance(intervals.dtype, pd.IntervalDtype)
    model = TabularMLPClassifier(**TINY).fit(X.assign(a=intervals), y)
    assert model.is_categorical_[0] and len(model.categories_[0]) == 4
    binary = pd.Series([s.encode() for s in X["city"]], dtype=pd.ArrowDtype(pa.binary()))
    assert TabularMLPClassifier(**TINY).fit(X.assign(city=binary), y).is_categorical_[1]
    lists = pd.Series([[v] for v in X["a"]], dtype=pd.ArrowDtype(pa.list_(pa.float64())))
    periods = pd.Series(pd.period_range("2020-01", periods=len(X), freq="M"))
    for column in (lists, periods):
        with pytest.raises(ValueError, match=r"Column 'a' holds .* values, which are neither"):
            TabularMLPClassifier(**TINY).fit(X.assign(a=column), y)


@pytest.mark.parametrize("form", ["frame", "object column", "array"])
def test_case_20_complex_columns_are_refused(form):
    X, y = mixed_frame()
    values = X["a"].to_numpy() + 1j * np.arange(len(X))
    if form == "array":
        data, column = np.column_stack([values, X["a"]]), "at index 0"
    else:
        data = X.assign(a=values if form == "frame" else values.astype(object))
        column = "'a'"
    with pytest.raises(ValueError, match=f"Column {column} holds complex numbers"):
        TabularMLPClassifier(**TINY).fit(data, y)
    # At predict too, a numeric column may not turn complex.
    model = TabularMLPClassifier(**TINY).fit(X, y)
    with pytest.raises(ValueError, match="Column 'a' holds complex numbers"):
        model.predict(X.assign(a=values))


def _peak_mib(function, X, working_memory):
    with config_context(working_memory=working_memory):
        tracemalloc.start()
        try:
            out = function(X)
            return tracemalloc.get_traced_memory()[1] / 2**20, out
        finally:
            tracemalloc.stop()


@pytest.mark.parametrize("Estimator", [MLPRegressor, TabularMLPRegressor])
def test_case_12_mlpfeatures_transform_keeps_to_working_memory(Estimator):
    # 20,000 rows through a 512-wide layer: 78 MiB per float64 buffer at once;
    # the features (16 columns) take 2.4 MiB.
    rng = np.random.RandomState(0)
    settings = dict(hidden_layer_sizes=(512, 16), max_iter=1, random_state=0)
    if Estimator is TabularMLPRegressor:
        settings.update(n_networks=1, value_embedding_min_count=0)
    features = MLPFeatures(Estimator(**settings)).fit(rng.normal(size=(300, 8)),
                                                     rng.normal(size=300))
    X = rng.normal(size=(20_000, 8))
    predict_peak, _ = _peak_mib(features.estimator_.predict, X, working_memory=4)
    peak, chunked = _peak_mib(features.transform, X, working_memory=4)
    assert peak < predict_peak + chunked.nbytes / 2**20 + 1  # was 80 to 350 MiB
    _, whole = _peak_mib(features.transform, X, working_memory=1024)
    np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-12)


def test_case_12_embedding_features_are_chunked_too():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.randint(0, 20, 3000), rng.normal(size=3000)])
    y = (X[:, 0] % 2).astype(int)
    mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0,
                        categorical_features=[0])
    features = MLPFeatures(mlp, include_embeddings=True).fit(X, y)
    _, whole = _peak_mib(features.transform, X, working_memory=1024)
    _, chunked = _peak_mib(features.transform, X, working_memory=0.002)
    np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-12)


def test_case_13_one_hot_memory_is_linear_in_the_categories():
    rng = np.random.RandomState(0)
    n_categories = 4000
    X = pd.DataFrame({"a": rng.normal(size=n_categories),
                      "code": [f"c{i}" for i in range(n_categories)]})
    y = rng.randint(0, 2, n_categories)
    model = TabularMLPClassifier(**dict(TINY, max_iter=1), max_one_hot=n_categories,
                                 numeric_embedding=None, piecewise_bins=0).fit(X, y)
    assert model.one_hot_.tolist() == [True]
    rows = X.iloc[:10].assign(code=["c3", "unseen", None, "c3999", *["c0"] * 6])
    peak, encoded = _peak_mib(lambda rows: model._encoded_for_prediction(rows), rows, 1024)
    assert peak < 2  # was 122 MiB: np.eye(4001)
    index = {category: i for i, category in enumerate(model.categories_[0])}
    expected = np.zeros((10, n_categories))
    expected[0, index["c3"]] = expected[3, index["c3999"]] = expected[4:, index["c0"]] = 1.0
    np.testing.assert_array_equal(encoded[:, -n_categories:], expected)


@pytest.mark.parametrize("Estimator", [TabularMLPClassifier, TabularMLPRegressor, MLPRegressor])
def test_case_16_empty_validation_set_is_refused_by_name(Estimator):
    X, y = mixed_frame()
    if Estimator is MLPRegressor:
        X = X[["a"]]
    settings = dict(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    if Estimator is not MLPRegressor:
        settings["n_networks"] = 1
    model = Estimator(**settings)
    for X_val in (X.iloc[:0], X.to_numpy()[:0], []):
        with pytest.raises(ValueError, match=r"X_val has no rows \(shape \(0,"):
            model.fit(X, y, X_val=X_val, y_val=y[:0])
    assert not hasattr(model, "coefs_")


@pytest.mark.xdist_group("dask-cluster")
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("bad, message", [(np.nan, "Input y contains NaN"),
                                          (np.inf, "Input y contains infinity")])
def test_case_14_dask_regressor_checks_y(client, solver, bad, message):
    from skdeep.dask import MLPRegressor as DaskRegressor

    da = pytest.importorskip("dask.array")
    X, _, X_dask, _ = dask_data()
    y = X[:, 0].copy()
    y[150] = bad
    model = DaskRegressor(hidden_layer_sizes=(4,), max_iter=2, solver=solver, random_state=0)
    with pytest.raises(ValueError, match=rf"In row block 1 \(rows 100 to 199\) .*{message}"):
        model.fit(X_dask, da.from_array(y, chunks=100))
    assert not hasattr(model, "coefs_")


@pytest.mark.xdist_group("dask-cluster")
def test_case_17_dask_early_stopping_with_tiny_blocks(client):
    from skdeep.dask import MLPClassifier

    settings = dict(hidden_layer_sizes=(4,), max_iter=3, early_stopping=True, random_state=0)
    # A 1-row block trains on its row; the others hold out a tenth of theirs.
    X, y, X_dask, y_dask = dask_data((1, 149, 150))
    model = MLPClassifier(**settings).fit(X_dask, y_dask)
    assert len(model.validation_scores_) == model.n_iter_
    # No block large enough to hold rows out: the error says so, with the chunks.
    X, y, X_dask, y_dask = dask_data((2,) * 10)
    with pytest.raises(ValueError, match=r"blocks of 3 rows or more; X has row chunks "
                                         r"\(2, 2, 2, 2, 2, 2, \.\.\. 10 chunks\)"):
        MLPClassifier(**settings).fit(X_dask, y_dask)


@pytest.mark.xdist_group("dask-cluster")
def test_case_18_dask_empty_validation_set_is_refused_by_name(client):
    from skdeep.dask import MLPClassifier

    X, y, X_dask, y_dask = dask_data()
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    with pytest.raises(ValueError, match=r"X_val has no rows \(shape \(0, 3\)\)"):
        model.fit(X_dask, y_dask, X_val=X_dask[:0], y_val=y_dask[:0])


@pytest.mark.parametrize("fitted", [True, False])
@pytest.mark.parametrize("n_networks", [1, 3])
@pytest.mark.parametrize("Estimator", [TabularMLPClassifier, TabularMLPRegressor])
def test_case_15_to_onnx_exports_the_tabular_estimators_or_says_they_are_unfitted(
        Estimator, n_networks, fitted):
    """Case 15 blamed categorical_features on numeric data; issue 33 exports them."""
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from sklearn.exceptions import NotFittedError

    from skdeep import to_onnx

    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))  # numeric only: no categorical column to blame
    model = Estimator(**dict(TINY, n_networks=n_networks))
    if not fitted:
        with pytest.raises(NotFittedError, match="not fitted yet.*to_onnx"):
            to_onnx(model)
        return
    model.fit(X, (X[:, 0] > 0).astype(int))
    session = ort.InferenceSession(to_onnx(model, dtype=np.float64).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    output = session.run(None, {"X": X})[-1]
    expected = (model.predict_proba(X) if hasattr(model, "predict_proba")
                else model.predict(X)[:, None])
    np.testing.assert_allclose(output, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("target", ["string", "boolean", "Int64", "object", "list"])
@pytest.mark.parametrize("Estimator", [MLPClassifier, TabularMLPClassifier])
def test_case_19_missing_class_labels_get_the_missing_values_message(Estimator, target):
    X, labels = mixed_frame()
    X = X[["a"]]
    values = {"string": np.where(labels, "yes", "no"), "boolean": labels.astype(bool),
              "Int64": labels, "object": np.where(labels, "yes", "no"),
              "list": np.where(labels, "yes", "no")}[target]
    missing = pd.NA if target in ("string", "boolean", "Int64") else None
    y = pd.Series(values, dtype=object)
    y[5] = missing
    if target in ("string", "boolean", "Int64"):
        y = y.astype(target)
    elif target == "list":
        y = y.tolist()
    else:
        y = y.to_numpy()
    settings = dict(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    if Estimator is TabularMLPClassifier:
        settings["n_networks"] = 1
    model = Estimator(**settings)
    with pytest.raises(ValueError, match=r"Input y contains missing values \(NaN, None or pd.NA"):
        model.fit(X, y)
    complete = np.asarray(values)
    with pytest.raises(ValueError, match="Input y_val contains missing values"):
        model.fit(X, complete, X_val=X, y_val=y)
    assert not hasattr(model, "coefs_")


@pytest.mark.parametrize("low, high", [(-1.7e308, 1.7e308), (1.6e308, 1.7e308)])
def test_case_21_columns_near_the_float_range_are_not_ignored(low, high):
    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, 200)
    X = pd.DataFrame({"big": np.where(y == 1, high, low) * rng.uniform(0.99, 1, 200),
                      "noise": rng.normal(size=200)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        clf = TabularMLPClassifier(**dict(TINY, max_iter=10, hidden_layer_sizes=(16,)))
        clf.fit(X, y)
        assert clf.numeric_scale_[0] > 0  # was 0: the spread overflowed to inf
        assert clf.score(X, y) > 0.95


@pytest.mark.parametrize("power", [600, 1020])
@pytest.mark.parametrize("loss", [dict(), dict(loss="quantile", quantile=0.5),
                                  dict(loss="quantile", quantile=[0.1, 0.9])])
def test_case_22_huge_targets_train_as_their_unit_free_version(loss, power):
    # A power of two changes no digit: the fit on y * 2**power is the fit on y, scaled.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 2))
    y = X[:, 0] + 0.1 * rng.normal(size=200)  # |y| < 4: y * 2**1020 stays below 1.8e308
    settings = dict(TINY, max_iter=5, **loss)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        small = TabularMLPRegressor(**settings).fit(X, y)
        huge = TabularMLPRegressor(**settings).fit(X, y * 2.0**power)
        np.testing.assert_array_equal(huge.target_scale_, small.target_scale_ * 2.0**power)
        np.testing.assert_array_equal(huge.predict(X), small.predict(X) * 2.0**power)
        assert huge.score(X, y * 2.0**power) == small.score(X, y)
    assert np.unique(huge.predict(X)).size > 100  # not only y's minimum or maximum


@pytest.mark.parametrize("weight", [1e-50, 1e40])
@pytest.mark.parametrize("Estimator", [TabularMLPClassifier, TabularMLPRegressor])
def test_case_23_float32_weights_advice_fits_the_tabular_estimators(Estimator, weight):
    X, y = mixed_frame()
    sample_weight = np.ones(len(y))
    sample_weight[0] = weight
    with pytest.raises(ValueError, match=r"float32 cannot represent\. Only their ratios matter"
                                         r".* rescale them.* the tabular estimators always "
                                         r"train in float32"):
        Estimator(**TINY).fit(X, y, sample_weight=sample_weight)
    # Rescaled as advised, the same ratios fit.
    rescaled = sample_weight / np.sqrt(sample_weight.max() * sample_weight.min())
    Estimator(**TINY).fit(X, y, sample_weight=rescaled)


def test_case_24_infinite_working_memory_is_no_limit():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(5000, 20))  # 5000 rows of a 64-wide layer: above the 1 MiB fast path
    y = (X[:, 0] > 0).astype(int)
    mlp = MLPClassifier(hidden_layer_sizes=(64,), max_iter=3, random_state=0).fit(X, y)
    tabular = TabularMLPClassifier(**dict(TINY, hidden_layer_sizes=(64,))).fit(X, y)
    features = MLPFeatures(TabularMLPClassifier(**TINY)).fit(X, y)
    calls = [mlp.predict_proba, tabular.predict_proba, features.transform]
    expected = [call(X) for call in calls]
    with config_context(working_memory=float("inf")):
        for call, wanted in zip(calls, expected):
            np.testing.assert_array_equal(call(X), wanted)
        # Early stopping scores its validation rows within the budget too.
        MLPClassifier(hidden_layer_sizes=(64,), max_iter=2, early_stopping=True,
                      random_state=0).fit(X, y)
    with config_context(working_memory=float("nan")), pytest.raises(
            ValueError, match="working_memory is NaN"):
        mlp.predict(X)


# --------------------------------------------------------------------------
# Also: the three observed behaviours, decided
# --------------------------------------------------------------------------
def test_also_categories_passed_with_another_type_are_refused_by_name():
    X, y = mixed_frame()
    X = X.assign(flag=pd.Categorical(y.astype(bool)))
    as_ints = X.assign(flag=y)
    for model in (TabularMLPClassifier(**TINY),
                  MLPClassifier(hidden_layer_sizes=(4,), max_iter=2,
                                categorical_features="from_dtype")):
        model.fit(X, y)
        with pytest.raises(ValueError, match=r"Categorical feature 'flag' had boolean "
                                             r"categories in fit .* now holds numeric"):
            model.predict(as_ints)
        # Unseen categories of the same kind are simply unknown, as before.
        assert model.predict(X.assign(city="elsewhere")).shape == (len(y),)
    with pytest.raises(ValueError, match="'city' had string categories in fit"):
        model.predict(X.assign(city=3))


@pytest.mark.parametrize("layer", [True, False, np.True_])
def test_also_mlpfeatures_refuses_a_boolean_layer(layer):
    X, y = mixed_frame()
    features = MLPFeatures(MLPRegressor(hidden_layer_sizes=(4,), max_iter=2), layer=layer)
    # (sklearn's parameter validation already refuses NumPy's bool, as not an int.)
    with pytest.raises(TypeError, match="layer must be the integer index|'layer' parameter"):
        features.fit(X[["a"]], y.astype(float))
    assert not hasattr(features, "estimator_")


@pytest.mark.parametrize("n_networks", [1, 3])
def test_also_tabular_divergence_is_never_silent(n_networks):
    from sklearn.exceptions import ConvergenceWarning

    X, y = mixed_frame(200)
    outcomes = set()
    for seed in range(3):
        model = TabularMLPClassifier(hidden_layer_sizes=(16,), max_iter=8, n_networks=n_networks,
                                     learning_rate_init=1e6, random_state=seed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                model.fit(X, y)
            except ValueError as exc:
                assert "Training diverged" in str(exc)
                outcomes.add("raised")
                continue
        # As for the MLPs: early stopping kept its best epoch, and says so.
        diverged = [w for w in caught if issubclass(w.category, ConvergenceWarning)
                    and "Training diverged in epoch" in str(w.message)]
        assert diverged, "a diverged fit kept an earlier epoch without a warning"
        outcomes.add("warned")
    assert outcomes


# --------------------------------------------------------------------------
# The property that found case 1: random mixed-dtype frames
# --------------------------------------------------------------------------
#: The kinds of column a frame is drawn from: every dtype family a table can
#: bring (NumPy, nullable, Arrow), with missing values, huge and constant
#: values, and the kinds that must be refused clearly (infinity, all missing,
#: complex numbers).
COLUMN_KINDS = [
    "float", "float_missing", "huge", "int", "Int64", "bool", "boolean", "object_str",
    "string", "category", "bool_category", "datetime_s", "datetime_us", "datetime_tz",
    "timedelta", "constant", "arrow_str", "arrow_dict", "arrow_int", "mixed_object",
    "infinite", "all_missing", "complex",
]

#: Messages that betray an internal failure rather than a clear refusal.
UNCLEAR = ("unpack", "ambiguous", "broadcast", "index", "division", "NoneType",
           "has no attribute", "not supported between")


def random_column(kind, n, rng):
    """One column of ``n`` rows of the given kind."""
    words = np.array(["red", "green", "blue", "black"])[rng.randint(4, size=n)]
    holes = rng.rand(n) < 0.2
    if kind == "float":
        return rng.normal(size=n)
    if kind == "float_missing":
        return np.where(holes, np.nan, rng.normal(size=n))
    if kind == "huge":
        return rng.choice([-1.7e308, -1e200, 1.0, 1e160, 1.7e308], n)
    if kind == "int":
        return rng.randint(-3, 4, size=n)
    if kind == "Int64":
        return pd.array(np.where(holes, None, rng.randint(0, 5, size=n)), dtype="Int64")
    if kind == "bool":
        return rng.rand(n) < 0.5
    if kind == "boolean":
        return pd.array(np.where(holes, None, rng.rand(n) < 0.5), dtype="boolean")
    if kind == "object_str":
        return np.where(holes, None, words).astype(object)
    if kind == "string":
        return pd.array(np.where(holes, None, words), dtype="string")
    if kind == "category":
        return pd.Categorical(np.where(holes, None, words))
    if kind == "bool_category":
        return pd.Categorical(rng.rand(n) < 0.5)
    if kind.startswith("datetime"):
        when = pd.Series(pd.Timestamp("2021-01-01")
                         + pd.to_timedelta(rng.randint(0, 10**8, n), unit="s"))
        when[holes] = pd.NaT
        if kind == "datetime_tz":
            return when.dt.tz_localize("UTC").dt.tz_convert("Europe/Paris")
        return when.astype(f"datetime64[{kind[-1] if kind.endswith('s') else 'us'}]")
    if kind == "timedelta":
        return pd.to_timedelta(np.where(holes, np.nan, rng.randint(0, 1000, n)), unit="h")
    if kind == "constant":
        return np.full(n, 7.0)
    if kind.startswith("arrow"):
        pa = pytest.importorskip("pyarrow")
        if kind == "arrow_int":
            return pd.array(np.where(holes, None, rng.randint(0, 9, n)),
                            dtype=pd.ArrowDtype(pa.int64()))
        strings = pd.array(np.where(holes, None, words), dtype=pd.ArrowDtype(pa.string()))
        if kind == "arrow_str":
            return strings
        return pd.Series(strings).astype(pd.ArrowDtype(pa.dictionary(pa.int32(), pa.string())))
    if kind == "mixed_object":
        return np.array([["a", 1, 2.5, None][i % 4] for i in range(n)], dtype=object)
    if kind == "infinite":
        return np.where(holes, np.inf, rng.normal(size=n))
    if kind == "all_missing":
        return np.full(n, np.nan)
    return rng.normal(size=n) + 1j * rng.normal(size=n)  # complex


def random_frame(kinds, n, seed):
    rng = np.random.RandomState(seed)
    return pd.DataFrame({f"{kind}_{j}": random_column(kind, n, rng)
                         for j, kind in enumerate(kinds)})


def random_target(task, n, seed):
    rng = np.random.RandomState(seed + 1)
    if task == "regression":
        return rng.normal(size=n)
    return np.array(["no", "yes", "maybe"])[rng.randint(3 if task == "three" else 2, size=n)]


def copies(*data):
    return [d.copy(deep=True) if isinstance(d, pd.DataFrame) else np.copy(d) for d in data]


def assert_unchanged(before, after):
    for old, new in zip(before, after):
        if isinstance(old, pd.DataFrame):
            pd.testing.assert_frame_equal(new, old)
        else:
            np.testing.assert_array_equal(new, old)


def assert_clear(error):
    message = str(error)
    assert message and not any(word in message for word in UNCLEAR), message


@settings(max_examples=int(os.environ.get("SKDEEP_FRAME_EXAMPLES", 60)), deadline=None,
          derandomize=os.environ.get("SKDEEP_HYPOTHESIS_PROFILE") != "explore",
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(kinds=st.lists(st.sampled_from(COLUMN_KINDS), min_size=1, max_size=4),
       n_rows=st.integers(8, 40), seed=st.integers(0, 2**31 - 1),
       task=st.sampled_from(["binary", "three", "regression"]),
       n_networks=st.sampled_from([1, 2]), fresh_rows=st.booleans(),
       clip=st.sampled_from([3.0, None]), max_one_hot=st.sampled_from([8, 2]))
def test_property_random_mixed_frames_fit_and_predict_or_refuse_clearly(
        kinds, n_rows, seed, task, n_networks, fresh_rows, clip, max_one_hot):
    X, y = random_frame(kinds, n_rows, seed), random_target(task, n_rows, seed)
    X_new = random_frame(kinds, 7, seed + 2) if fresh_rows else X
    Estimator = TabularMLPRegressor if task == "regression" else TabularMLPClassifier
    model = Estimator(hidden_layer_sizes=(8,), max_iter=2, n_networks=n_networks, clip=clip,
                      max_one_hot=max_one_hot, random_state=seed % 1000)
    before = copies(X, y, X_new)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            model.fit(X, y)
        except (ValueError, TypeError) as error:
            event(f"fit refused: {str(error)[:40]}")
            assert_clear(error)
            assert not hasattr(model, "n_features_in_")
            assert_unchanged(before, [X, y, X_new])
            return
        try:
            predicted = model.predict(X_new)
        except (ValueError, TypeError) as error:  # e.g. infinity only in the new rows
            event(f"predict refused: {str(error)[:40]}")
            assert_clear(error)
            assert_unchanged(before, [X, y, X_new])
            return
    event("fitted and predicted")
    assert predicted.shape == (len(X_new),)
    if task == "regression":
        assert np.isfinite(predicted).all()
        assert (y.min() <= predicted).all() and (predicted <= y.max()).all()
    else:
        proba = model.predict_proba(X_new)
        assert proba.shape == (len(X_new), len(model.classes_))
        assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1.0)
        assert set(predicted) <= set(model.classes_)
    assert_unchanged(before, [X, y, X_new])


def test_property_finding_huge_values_make_no_zero_width_bins():
    # The first example the property above found after the 24 cases: training in float32
    # overflowed the inverse width of a bin between the median and a value 1e-160 above it.
    X = pd.DataFrame({"huge": [-1.7e308, -1e200, 1.0, 1e160, 1.7e308] * 4})
    y = np.array([0, 1] * 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model = TabularMLPClassifier(**TINY).fit(X, y)
    assert np.isfinite(model.predict_proba(X)).all()
