"""MLPFeatures: a fitted network's hidden layer (and embeddings) as features."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes, make_classification
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdeep import (
    MLPClassifier,
    MLPFeatures,
    MLPRegressor,
    TabularMLPClassifier,
    TabularMLPRegressor,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def diabetes(as_frame=False):
    X, y = load_diabetes(return_X_y=True, as_frame=as_frame)
    return X, y


def small_regressor(**params):
    return MLPRegressor(hidden_layer_sizes=(12, 6), solver="lbfgs", max_iter=200,
                        random_state=0, **params)


def with_categories():
    X, y = diabetes(as_frame=True)
    X = X.assign(
        sex=pd.Categorical(np.where(X["sex"] > 0, "f", "m")),
        district=pd.Categorical(np.arange(len(X)) % 12),
    )
    return X, y


# The checks seed only a top-level random_state; the wrapped network is
# seeded here, so that refitting gives the same features.
@parametrize_with_checks([
    MLPFeatures(MLPRegressor(hidden_layer_sizes=(8,), max_iter=100, random_state=0)),
    MLPFeatures(MLPClassifier(hidden_layer_sizes=(8, 4), solver="lbfgs", max_iter=100,
                              random_state=0), layer=0),
])
def test_sklearn_compatible_transformer(estimator, check):
    check(estimator)


def test_features_are_the_hidden_layer_the_output_layer_reads():
    X, y = diabetes()
    features = MLPFeatures(small_regressor()).fit(X, y)
    model = features.estimator_
    hidden = features.transform(X)
    assert hidden.shape == (len(X), 6)
    # The output layer applied to the features gives the predictions back.
    np.testing.assert_allclose(hidden @ model.coefs_[-1][:, 0] + model.intercepts_[-1][0],
                               model.predict(X))
    first = MLPFeatures(small_regressor(), layer=0).fit(X, y).transform(X)
    np.testing.assert_allclose(first, np.maximum(X @ model.coefs_[0] + model.intercepts_[0], 0))


def test_tabular_features_are_its_last_hidden_layer():
    X, y = diabetes()
    features = MLPFeatures(TabularMLPRegressor(hidden_layer_sizes=(16, 8), max_iter=5, n_networks=1,
                                               random_state=0)).fit(X, y)
    model = features.estimator_
    logits = features.transform(X) @ model.coefs_[-1] + model.intercepts_[-1]
    expected = np.clip(logits[:, 0] * model.target_scale_ + model.target_mean_,
                       model.target_min_, model.target_max_)
    np.testing.assert_allclose(model.predict(X), expected)


@pytest.mark.parametrize("Estimator", [MLPRegressor, TabularMLPRegressor])
def test_embeddings_are_the_learned_table_rows(Estimator):
    X, y = with_categories()
    params = {"categorical_features": "from_dtype"} if Estimator is MLPRegressor else {
        "n_networks": 1}
    features = MLPFeatures(Estimator(hidden_layer_sizes=(8,), max_iter=5, random_state=0,
                                     **params), include_embeddings=True).fit(X, y)
    model = features.estimator_
    out = features.transform(X)
    names = list(features.get_feature_names_out())
    # The district table is the last one; row k + 1 holds category k.
    table = model.embeddings_[-1]
    district = [i for i, name in enumerate(names) if name.startswith("district_embedding")]
    assert len(district) == table.shape[1]
    np.testing.assert_allclose(out[:, district], table[X["district"].cat.codes + 1])
    assert names[:8] == [f"hidden0_{k}" for k in range(8)]


def test_pandas_output_keeps_the_index_and_names():
    X, y = diabetes(as_frame=True)
    X.index = X.index + 1000
    features = MLPFeatures(small_regressor()).set_output(transform="pandas")
    out = features.fit_transform(X, y)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == [f"hidden1_{k}" for k in range(6)]
    assert out.index.equals(X.index)
    np.testing.assert_array_equal(features.feature_names_in_, X.columns)


def test_in_pipeline_feature_union_and_column_transformer():
    X, y = diabetes(as_frame=True)
    union = FeatureUnion([("raw", "passthrough"), ("mlp", MLPFeatures(small_regressor()))])
    pipe = make_pipeline(StandardScaler(), union, Ridge()).fit(X, y)
    assert pipe[:-1].get_feature_names_out()[-1] == "mlp__hidden1_5"
    assert pipe.score(X, y) > 0.4
    columns = ColumnTransformer([("mlp", MLPFeatures(small_regressor()), ["bmi", "bp", "s5"])],
                                remainder="passthrough")
    out = columns.fit_transform(X, y)
    assert out.shape == (len(X), 6 + X.shape[1] - 3)


def test_grid_search_over_the_network_and_the_layer():
    X, y = diabetes()
    pipe = make_pipeline(StandardScaler(), MLPFeatures(small_regressor()), LinearRegression())
    search = GridSearchCV(pipe, {
        "mlpfeatures__estimator__hidden_layer_sizes": [(8,), (8, 4)],
        "mlpfeatures__layer": [0, -1],
    }, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_[1]
    assert best.estimator_.hidden_layer_sizes == search.best_params_[
        "mlpfeatures__estimator__hidden_layer_sizes"]


def test_held_out_fit_with_frozen_estimator():
    # The leakage-free way: features learned on one half, the model on the other.
    X, y = diabetes()
    X = StandardScaler().fit_transform(X)
    features = MLPFeatures(small_regressor()).fit(X[:220], y[:220])
    model = make_pipeline(FrozenEstimator(features), Ridge()).fit(X[220:], y[220:])
    np.testing.assert_array_equal(model[0].transform(X), features.transform(X))
    assert model.score(X[220:], y[220:]) > 0.3


def test_the_default_estimator_follows_the_target_dtype():
    X, y = diabetes()
    assert isinstance(MLPFeatures().fit(X, y).estimator_, MLPRegressor)
    labels = (y > 140).astype(int)
    assert isinstance(MLPFeatures().fit(X, labels).estimator_, MLPClassifier)


def test_classifier_features():
    X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    features = MLPFeatures(TabularMLPClassifier(hidden_layer_sizes=(10,), max_iter=3, n_networks=1,
                                                random_state=0)).fit(X, y)
    assert features.transform(X).shape == (200, 10)


def test_an_ensemble_outputs_every_networks_features_side_by_side():
    """n_networks=3 (the default) concatenates the members' hidden layers, in member order.

    Each block is what that member alone computes: its own network, fitted
    from its own seed, read by a one-network MLPFeatures-like call.
    """
    X = pd.DataFrame({"x": np.linspace(-2, 2, 120), "z": np.cos(np.arange(120.0)),
                      "city": np.array(list("abcdefghijkl"))[np.arange(120) % 12]})
    y = (X["x"] + (X["city"] < "f") > 0.5).astype(int)
    features = MLPFeatures(TabularMLPClassifier(hidden_layer_sizes=(6, 5), max_iter=2,
                                                random_state=0),
                           include_embeddings=True).fit(X, y)
    ensemble = features.estimator_
    assert len(ensemble.estimators_) == 3
    out = features.transform(X)
    dim = ensemble.estimators_[0].embeddings_[0].shape[1]
    assert out.shape == (120, 3 * 5 + 3 * dim)
    for m, member in enumerate(ensemble.estimators_):
        np.testing.assert_allclose(out[:, 5 * m : 5 * (m + 1)], member._hidden_features(X, 1))
        np.testing.assert_allclose(out[:, 15 + dim * m : 15 + dim * (m + 1)],
                                   member._embedding_features(X))
    names = features.get_feature_names_out()
    assert list(names[:6]) == [*(f"network0_hidden1_{u}" for u in range(5)), "network1_hidden1_0"]
    assert names[15] == "network0_city_embedding0" and len(names) == out.shape[1]


def test_the_default_tabular_ensemble_works_in_a_pipeline():
    X, y = make_classification(n_samples=150, n_features=4, random_state=0)
    model = make_pipeline(MLPFeatures(TabularMLPClassifier(hidden_layer_sizes=(8,), max_iter=2,
                                                           random_state=0)),
                          LogisticRegression()).fit(X, y)
    assert model[0].transform(X).shape == (150, 24)
    assert model.score(X, y) > 0.5


@pytest.mark.parametrize("layer", [2, -3])
def test_a_layer_out_of_range_fails_before_training(layer):
    X, y = diabetes()
    features = MLPFeatures(small_regressor(), layer=layer)
    with pytest.raises(ValueError, match=rf"layer={layer} is out of range .* 2 hidden layer"):
        features.fit(X, y)
    assert not hasattr(features, "estimator_")


def test_a_network_without_hidden_layer_has_no_features():
    X, y = diabetes()
    with pytest.raises(ValueError, match="no hidden layer"):
        MLPFeatures(MLPRegressor(hidden_layer_sizes=())).fit(X, y)


def test_transform_before_fit():
    with pytest.raises(NotFittedError):
        MLPFeatures().transform(np.zeros((2, 3)))
    with pytest.raises(NotFittedError):
        MLPFeatures().get_feature_names_out()


def test_only_skdeep_estimators_are_wrapped():
    X, y = diabetes()
    with pytest.raises(TypeError, match="wraps a skdeep estimator .* got LinearRegression"):
        MLPFeatures(LinearRegression()).fit(X, y)


def test_embeddings_need_an_embedded_column():
    X, y = diabetes()
    with pytest.raises(ValueError, match="embedded no categorical column"):
        MLPFeatures(small_regressor(), include_embeddings=True).fit(X, y)


def test_a_failed_refit_keeps_the_fitted_features():
    X, y = diabetes()
    features = MLPFeatures(small_regressor()).fit(X, y)
    before = features.transform(X)
    with pytest.raises(ValueError, match="out of range"):
        features.set_params(layer=7).fit(X, y)
    np.testing.assert_array_equal(features.transform(X), before)


def test_the_estimators_themselves_have_no_transform():
    X, y = diabetes()
    for model in (MLPRegressor(max_iter=5).fit(X, y), MLPClassifier(max_iter=5).fit(X, y > 140)):
        assert not hasattr(model, "transform")
        assert not hasattr(model, "fit_transform")


def test_tabular_features_with_parametric_activations_are_after_the_activation():
    from skdeep._engine.activations import get_activation

    X, y = diabetes()
    features = MLPFeatures(
        TabularMLPRegressor(hidden_layer_sizes=(8,), max_iter=3, n_networks=1, parametric_activation=True,
                            random_state=0),
        layer=0,
    ).fit(X, y)
    model = features.estimator_
    model.activation_strength_ = [np.ones(8)]
    activated = features.transform(X)
    model.activation_strength_ = [np.zeros(8)]
    linear = features.transform(X)
    # z + 1 * (f(z) - z) is f(z) up to the rounding of z: absolute, not relative.
    np.testing.assert_allclose(activated, get_activation("mish").forward(linear.copy()),
                               rtol=1e-7, atol=1e-12)
