"""ONNX export: onnxruntime reproduces skdeep's predictions.

Every hidden activation, every kind of output (binary, multiclass and
multilabel classification; single-output, multi-output and Poisson
regression), networks with no hidden layer and with two, and integer,
float, boolean and string class labels: the exported graph, run by
onnxruntime on float32 inputs, gives the probabilities / predictions of the
skdeep model on the same inputs, to float32 rounding (``rtol=1e-5``,
``atol=1e-6`` for float32 models) and the same labels.

Run this file as a script to print the largest absolute difference of every
configuration::

    python tests/test_onnx.py
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import StandardScaler

from skdeep import MLPClassifier, MLPRegressor, to_onnx
from skdeep._engine import HIDDEN_ACTIVATIONS

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

RTOL = {np.float32: 1e-5, np.float64: 1e-10}
ATOL = {np.float32: 1e-6, np.float64: 1e-12}

TASKS = [
    "binary",
    "binary_str",
    "multiclass",
    "multiclass_str",
    "multilabel",
    "regression",
    "regression_multi",
    "poisson",
]
CLASSIFICATION_TASKS = {"binary", "binary_str", "multiclass", "multiclass_str", "multilabel"}


# --------------------------------------------------------------------------
# helpers (also used by the __main__ table)
# --------------------------------------------------------------------------


def make_data(task, dtype=np.float32, n_samples=120, n_features=6, seed=0):
    """Standardised X (of ``dtype``) and targets for ``task``."""
    rng = np.random.RandomState(seed)
    if task.startswith(("binary", "multiclass")):
        n_classes = 2 if task.startswith("binary") else 3
        X, y = make_classification(
            n_samples=n_samples,
            n_features=n_features,
            n_informative=4,
            n_redundant=0,
            n_classes=n_classes,
            n_clusters_per_class=1,
            random_state=seed,
        )
        if task.endswith("_str"):
            y = np.array(["ant", "bee", "cat"])[y]
    elif task == "multilabel":
        X, y = make_multilabel_classification(
            n_samples=n_samples, n_features=n_features, n_classes=3, random_state=seed
        )
    elif task in ("regression", "regression_multi"):
        n_targets = 1 if task == "regression" else 3
        X, y = make_regression(
            n_samples=n_samples, n_features=n_features, n_targets=n_targets,
            noise=0.5, random_state=seed,
        )
        y = (y - y.mean(axis=0)) / y.std(axis=0)
    elif task == "poisson":
        X = rng.normal(size=(n_samples, n_features))
        y = rng.poisson(np.exp(0.3 * X[:, 0] - 0.2 * X[:, 1])).astype(float)
    else:
        raise ValueError(task)
    X = StandardScaler().fit_transform(X).astype(dtype)
    return X, y


def fit_model(task, activation, hidden_layer_sizes, dtype=np.float32, seed=0):
    """A small skdeep model of ``dtype``, trained just enough to be non-trivial."""
    X, y = make_data(task, dtype=dtype, seed=seed)
    params = dict(
        hidden_layer_sizes=hidden_layer_sizes,
        activation=activation,
        solver="lbfgs",
        max_iter=20,
        # Some L2 keeps the logits moderate: with logits in the hundreds
        # (separable data, no penalty) float32 rounding of the logits alone
        # moves mid-range probabilities by ~1e-5, in any implementation.
        alpha=0.1,
        random_state=seed,
    )
    if task in CLASSIFICATION_TASKS:
        model = MLPClassifier(**params)
    else:
        model = MLPRegressor(loss="poisson" if task == "poisson" else "squared_error", **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return model, X


def evaluation_rows(X):
    """The training rows plus rows 3x wider, to reach the activations' tails."""
    return np.concatenate([X, 3 * X[:40]]).astype(X.dtype)


def run_onnx(model_proto, X):
    """Outputs of an ONNX model under onnxruntime, by output name."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(
        model_proto.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, {"X": X})))


def compare(model, X, dtype=np.float32, opset=None):
    """ONNX versus skdeep on ``X``: outputs, reference values and max |diff|."""
    proto = to_onnx(model, dtype=dtype, opset=opset)
    onnx.checker.check_model(proto, full_check=True)
    outputs = run_onnx(proto, X)
    if isinstance(model, (MLPClassifier, SkMLPClassifier)):
        expected = model.predict_proba(X)
        got = outputs["probabilities"]
    else:
        expected = model.predict(X).reshape(len(X), -1)
        got = outputs["variable"]
    max_diff = float(np.max(np.abs(got.astype(np.float64) - expected)))
    return proto, outputs, expected, got, max_diff


def ambiguous_rows(model, probabilities, margin=1e-5):
    """Rows whose skdeep decision is within ``margin`` of a tie or of 0.5."""
    if model.out_activation_ == "softmax":
        top2 = np.sort(probabilities, axis=1)[:, -2:]
        return (top2[:, 1] - top2[:, 0]) < margin
    if model.n_outputs_ == 1:
        return np.abs(probabilities[:, 1] - 0.5) < margin
    return np.any(np.abs(probabilities - 0.5) < margin, axis=1)


def check_labels(model, X, outputs, expected_probabilities):
    """ONNX labels equal skdeep's, except on rows decided by float rounding."""
    expected = model.predict(X)
    got = outputs["label"]
    assert got.shape == expected.shape
    if got.dtype == object:  # onnxruntime returns string tensors as str objects
        got = got.astype(str)
    undecided = ambiguous_rows(model, expected_probabilities)
    np.testing.assert_array_equal(got[~undecided], expected[~undecided])
    return int(undecided.sum())


# --------------------------------------------------------------------------
# agreement with skdeep
# --------------------------------------------------------------------------


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_every_activation_and_output(activation, task):
    model, X = fit_model(task, activation, (8, 5))
    X_eval = evaluation_rows(X)
    _, outputs, expected, got, _ = compare(model, X_eval)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=RTOL[np.float32], atol=ATOL[np.float32])
    if task in CLASSIFICATION_TASKS:
        check_labels(model, X_eval, outputs, expected)


@pytest.mark.parametrize("task", TASKS)
def test_no_hidden_layer(task):
    model, X = fit_model(task, "relu", ())
    X_eval = evaluation_rows(X)
    proto, outputs, expected, got, _ = compare(model, X_eval)
    assert [node.op_type for node in proto.graph.node][:2] == ["MatMul", "Add"]
    np.testing.assert_allclose(got, expected, rtol=RTOL[np.float32], atol=ATOL[np.float32])
    if task in CLASSIFICATION_TASKS:
        check_labels(model, X_eval, outputs, expected)


@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("task", ["multiclass_str", "regression_multi", "poisson"])
def test_float64_export(task, activation):
    """A float64 model exported in float64 agrees to double precision."""
    model, X = fit_model(task, activation, (8, 5), dtype=np.float64)
    X_eval = evaluation_rows(X)
    proto, outputs, expected, got, _ = compare(model, X_eval, dtype=np.float64)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=RTOL[np.float64], atol=ATOL[np.float64])
    if task in CLASSIFICATION_TASKS:
        check_labels(model, X_eval, outputs, expected)


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_float64_model_exported_in_float32(task):
    """The weights are cast: agreement to float32 precision."""
    model, X = fit_model(task, "tanh", (8, 5), dtype=np.float64)
    X32 = evaluation_rows(X).astype(np.float32)
    _, outputs, expected, got, _ = compare(model, X32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_per_layer_activations():
    X, y = make_data("multiclass")
    model = MLPClassifier(
        hidden_layer_sizes=(7, 6, 5), activation=["gelu", "selu", "softplus"],
        solver="lbfgs", max_iter=40, random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    proto, outputs, expected, got, _ = compare(model, X)
    assert {"Where", "Softplus", "Tanh"} <= {node.op_type for node in proto.graph.node}
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    check_labels(model, X, outputs, expected)


def test_one_output_regression_is_two_dimensional():
    model, X = fit_model("regression", "relu", (8,))
    proto, outputs, _, got, _ = compare(model, X)
    assert model.predict(X).shape == (len(X),)
    assert got.shape == (len(X), 1)
    dims = proto.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims][1:] == [1]
    np.testing.assert_allclose(got.ravel(), model.predict(X), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "labels, label_dtype",
    [
        (np.array([3, 7, 11]), np.int64),
        (np.array([-2, 5]), np.int64),
        (np.array([0.5, 2.0, 4.0]) * 2, np.float64),
        (np.array([False, True]), np.bool_),
        (np.array(["setosa", "versicolor", "virginica"], dtype=object), object),
        (np.array(["x", "y"]), object),
    ],
    ids=["int", "negative_int", "float", "bool", "str_object", "str_binary"],
)
def test_label_types(labels, label_dtype):
    X, y = make_data("multiclass" if len(labels) == 3 else "binary")
    y = labels[y]
    model = MLPClassifier(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=40, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    _, outputs, expected, got, _ = compare(model, X)
    assert outputs["label"].dtype == label_dtype
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    check_labels(model, X, outputs, expected)


def test_single_class():
    X, _ = make_data("binary")
    model = MLPClassifier(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, np.full(len(X), 7))
    _, outputs, expected, got, _ = compare(model, X)
    np.testing.assert_array_equal(outputs["label"], model.predict(X))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_multilabel_outputs():
    model, X = fit_model("multilabel", "relu", (8,))
    _, outputs, expected, _, _ = compare(model, X)
    assert outputs["label"].dtype == np.int64
    assert outputs["label"].shape == (len(X), model.n_outputs_)
    check_labels(model, X, outputs, expected)


def test_feature_names_and_stochastic_solver():
    """A model fitted on a DataFrame (with adam) exports like any other."""
    X, y = make_data("multiclass")
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(frame, y)
    outputs = run_onnx(to_onnx(model), X)
    np.testing.assert_allclose(
        outputs["probabilities"], model.predict_proba(frame), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("Estimator, task", [(SkMLPClassifier, "multiclass"),
                                             (SkMLPRegressor, "regression_multi")])
def test_scikit_learn_mlp(Estimator, task):
    """scikit-learn's MLPs export too (their activation is one name)."""
    X, y = make_data(task)
    model = Estimator(hidden_layer_sizes=(8,), activation="tanh", solver="lbfgs",
                      max_iter=40, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    _, outputs, expected, got, _ = compare(model, X)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("opset", [13, 15, 21])
def test_opsets(opset):
    model, X = fit_model("multiclass_str", "gelu", (8,))
    proto, outputs, expected, got, _ = compare(model, X, opset=opset)
    assert proto.opset_import[0].version == opset
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_model_metadata_and_file_round_trip(tmp_path):
    model, X = fit_model("binary_str", "elu", (8, 5))
    proto = to_onnx(model)
    assert [i.name for i in proto.graph.input] == ["X"]
    assert [o.name for o in proto.graph.output] == ["label", "probabilities"]
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_value == 0 and dims[1].dim_value == X.shape[1]
    assert proto.producer_name == "skdeep"
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["hidden_activations"] == "elu,elu"
    path = tmp_path / "model.onnx"
    onnx.save(proto, path)
    outputs = run_onnx(onnx.load(path), X)
    np.testing.assert_allclose(outputs["probabilities"], model.predict_proba(X),
                               rtol=1e-5, atol=1e-6)


def test_weights_are_initializers_of_the_requested_dtype():
    model, _ = fit_model("regression_multi", "relu", (8, 5), dtype=np.float64)
    proto = to_onnx(model)
    weights = {init.name: onnx.numpy_helper.to_array(init) for init in proto.graph.initializer}
    assert all(array.dtype == np.float32 for array in weights.values())
    for kind, fitted in [("coefficient", model.coefs_), ("intercept", model.intercepts_)]:
        for i, expected in enumerate(fitted):
            np.testing.assert_array_equal(weights[f"{kind}_{i}"], expected.astype(np.float32))


def test_predictions_stay_finite_for_extreme_inputs():
    """Saturated sigmoids and softplus do not overflow to NaN."""
    model, X = fit_model("binary", "softplus", (8,))
    X_extreme = (X[:20] * 1e4).astype(np.float32)
    outputs = run_onnx(to_onnx(model), X_extreme)
    assert np.isfinite(outputs["probabilities"]).all()
    np.testing.assert_allclose(outputs["probabilities"], model.predict_proba(X_extreme),
                               rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_unfitted_estimator_raises(Estimator):
    with pytest.raises(NotFittedError, match="not fitted yet.*to_onnx"):
        to_onnx(Estimator())


def test_other_estimators_are_rejected():
    X, y = make_data("binary")
    with pytest.raises(TypeError, match="LogisticRegression"):
        to_onnx(LogisticRegression().fit(X, y))


def test_invalid_dtype_and_opset():
    model, _ = fit_model("binary", "relu", (4,))
    with pytest.raises(ValueError, match="dtype"):
        to_onnx(model, dtype=np.int32)
    with pytest.raises(ValueError, match="opset"):
        to_onnx(model, opset=12)
    with pytest.raises(ValueError, match="opset"):
        to_onnx(model, opset=onnx.defs.onnx_opset_version() + 1)


def test_float32_model_rejects_float64_input():
    """The input type is part of the graph: onnxruntime refuses other dtypes."""
    model, X = fit_model("regression", "relu", (4,))
    with pytest.raises(Exception, match="(?i)type"):
        run_onnx(to_onnx(model), X.astype(np.float64))


# --------------------------------------------------------------------------
# python tests/test_onnx.py: the table of largest differences
# --------------------------------------------------------------------------


def _table():
    """One row per configuration: largest |ONNX - skdeep|, the largest |value|
    compared (probabilities or predictions), and the share of the test
    tolerance used, ``max(|diff| / (atol + rtol * |expected|))`` (<= 1 passes)."""
    rows = []
    for hidden in [(), (8, 5)]:
        activations = ["relu"] if hidden == () else HIDDEN_ACTIVATIONS
        for activation in activations:
            for task in TASKS:
                for dtype in (np.float32, np.float64):
                    model, X = fit_model(task, activation, hidden, dtype=dtype)
                    X_eval = evaluation_rows(X)
                    _, outputs, expected, got, diff = compare(model, X_eval, dtype=dtype)
                    share = np.max(
                        np.abs(got - expected) / (ATOL[dtype] + RTOL[dtype] * np.abs(expected))
                    )
                    labels = "-"
                    if task in CLASSIFICATION_TASKS:
                        undecided = check_labels(model, X_eval, outputs, expected)
                        labels = "equal" if undecided == 0 else f"equal ({undecided} ties)"
                    name = "()" if hidden == () else "(8,5)"
                    rows.append(
                        (name, activation, task, np.dtype(dtype).name,
                         f"{diff:.2e}", f"{np.max(np.abs(expected)):.3g}", f"{share:.2f}", labels)
                    )
    header = ("hidden", "activation", "output", "dtype", "max |diff|", "max |value|", "of tol",
              "labels")
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    for dtype in ("float32", "float64"):
        selected = [row for row in rows if row[3] == dtype]
        print(
            f"{dtype}: largest |diff| {max(float(r[4]) for r in selected):.2e}, "
            f"largest share of the tolerance {max(float(r[6]) for r in selected):.2f}"
        )


if __name__ == "__main__":
    _table()


def test_every_engine_activation_has_an_onnx_graph():
    """Adding an activation to the engine's registry needs its ONNX mapping too."""
    from skdeep._engine import ACTIVATIONS
    from skdeep._onnx import ONNX_ACTIVATIONS

    assert set(ONNX_ACTIVATIONS) == set(ACTIVATIONS)


def test_several_quantiles_export_their_non_crossing_output():
    X, y = make_regression(n_samples=120, n_features=4, noise=5.0, random_state=0)
    X = X.astype(np.float32)
    model = MLPRegressor(loss="quantile", quantile=[0.1, 0.5, 0.9], hidden_layer_sizes=(8,),
                         solver="lbfgs", max_iter=200, random_state=0).fit(X, y / 50)
    _, _, expected, got, _ = compare(model, X)
    np.testing.assert_allclose(got, expected, rtol=RTOL[np.float32], atol=ATOL[np.float32])
    assert (np.diff(got, axis=1) >= 0).all()
