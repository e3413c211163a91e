"""Whole pipelines ending in skdeep's MLPs, exported by skl2onnx.

``register_skl2onnx_converters`` registers skdeep's estimators with skl2onnx;
``skl2onnx.to_onnx(pipeline, X[:1])`` must then export pipelines with
``StandardScaler`` or ``ColumnTransformer`` + ``OneHotEncoder`` steps, and
onnxruntime must reproduce the pipeline's predictions, as for the bare
networks of ``test_onnx.py``.
"""

import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skdeep import MLPClassifier, MLPRegressor, register_skl2onnx_converters

skl2onnx = pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")

RTOL = {np.float32: 1e-5, np.float64: 1e-10}
ATOL = {np.float32: 1e-6, np.float64: 1e-12}


@pytest.fixture(scope="module", autouse=True)
def _registered():
    register_skl2onnx_converters()


def _session(model):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def _fit(pipeline, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return pipeline.fit(X, y)


def _iris(dtype, target="multiclass"):
    X, y = load_iris(return_X_y=True)
    y = {"multiclass": y, "binary": (y == 2).astype(int),
         "strings": np.array(["setosa", "versicolor", "virginica"])[y]}[target]
    return X.astype(dtype), y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("target", ["multiclass", "binary", "strings"])
def test_scaler_and_classifier_pipeline_runs_in_onnxruntime(dtype, target):
    X, y = _iris(dtype, target)
    pipeline = _fit(make_pipeline(
        StandardScaler(), MLPClassifier((8,), solver="lbfgs", max_iter=200, random_state=0)
    ), X, y)
    model = skl2onnx.to_onnx(pipeline, X[:1], options={"zipmap": False})
    label, probabilities = _session(model).run(None, {"X": X})
    np.testing.assert_array_equal(label, pipeline.predict(X))
    assert probabilities.dtype == dtype
    np.testing.assert_allclose(probabilities, pipeline.predict_proba(X),
                               rtol=RTOL[dtype], atol=ATOL[dtype])


def test_classifier_gets_skl2onnxs_default_zipmap_output():
    """As for sklearn's classifiers: probabilities as one {class: p} per row."""
    X, y = _iris(np.float32)
    pipeline = _fit(make_pipeline(StandardScaler(), MLPClassifier((8,), random_state=0)), X, y)
    model = skl2onnx.to_onnx(pipeline, X[:1])
    label, rows = _session(model).run(None, {"X": X[:5]})
    np.testing.assert_array_equal(label, pipeline.predict(X[:5]))
    expected = pipeline.predict_proba(X[:5])
    for row, probabilities in zip(rows, expected, strict=True):
        assert sorted(row) == [0, 1, 2]
        np.testing.assert_allclose([row[k] for k in range(3)], probabilities, atol=1e-6)


def _table(n_samples=200, seed=0):
    rng = np.random.RandomState(seed)
    frame = pd.DataFrame({
        "size": rng.normal(size=n_samples).astype(np.float32),
        "weight": rng.uniform(0, 10, size=n_samples).astype(np.float32),
        "color": rng.choice(["red", "green", "blue"], n_samples),
    })
    signal = frame["size"] + (frame["color"] == "red") - 0.1 * frame["weight"]
    return frame, signal.to_numpy()


def _column_inputs(frame):
    return {column: frame[[column]].to_numpy() for column in frame.columns}


def _table_preprocessing():
    return ColumnTransformer([
        ("numbers", StandardScaler(), ["size", "weight"]),
        ("colors", OneHotEncoder(handle_unknown="ignore"), ["color"]),
    ], sparse_threshold=0.0)


def test_column_transformer_one_hot_and_classifier_pipeline():
    frame, signal = _table()
    y = np.where(signal > np.median(signal), "high", "low")
    pipeline = _fit(make_pipeline(
        _table_preprocessing(), MLPClassifier((8,), solver="lbfgs", random_state=0)
    ), frame, y)
    model = skl2onnx.to_onnx(pipeline, frame[:1], options={"zipmap": False})
    label, probabilities = _session(model).run(None, _column_inputs(frame))
    np.testing.assert_array_equal(label, pipeline.predict(frame))
    np.testing.assert_allclose(probabilities, pipeline.predict_proba(frame), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("n_targets", [1, 3])
def test_column_transformer_one_hot_and_regressor_pipeline(n_targets):
    frame, signal = _table()
    y = signal if n_targets == 1 else np.column_stack([signal * k for k in range(1, 4)])
    pipeline = _fit(make_pipeline(
        _table_preprocessing(), MLPRegressor(hidden_layer_sizes=(8,), max_iter=50, random_state=0)
    ), frame, y)
    model = skl2onnx.to_onnx(pipeline, frame[:1])
    (variable,) = _session(model).run(None, _column_inputs(frame))
    assert variable.shape == (len(frame), n_targets)
    np.testing.assert_allclose(variable, pipeline.predict(frame).reshape(len(frame), -1),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scaler_and_regressor_pipeline(dtype):
    X, y = make_regression(n_samples=100, n_features=4, noise=1.0, random_state=0)
    X = X.astype(dtype)
    pipeline = _fit(make_pipeline(
        StandardScaler(),
        MLPRegressor(hidden_layer_sizes=(8,), activation="tanh", solver="lbfgs", random_state=0),
    ), X, y / y.std())
    model = skl2onnx.to_onnx(pipeline, X[:1])
    (variable,) = _session(model).run(None, {"X": X})
    assert variable.dtype == dtype
    np.testing.assert_allclose(variable[:, 0], pipeline.predict(X), rtol=RTOL[dtype],
                               atol=10 * ATOL[dtype])


def test_float_class_labels_are_refused_with_what_to_do():
    X, y = _iris(np.float32)
    pipeline = _fit(make_pipeline(StandardScaler(), MLPClassifier((4,), max_iter=20)), X,
                    y.astype(float))
    with pytest.raises(TypeError, match="integer or string class labels.*LabelEncoder"):
        skl2onnx.to_onnx(pipeline, X[:1], options={"zipmap": False})


def test_missing_skl2onnx_gives_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "skl2onnx", None)
    expected = r"needs the 'skl2onnx' package.*pip install skl2onnx"
    with pytest.raises(ImportError, match=expected):
        register_skl2onnx_converters()
