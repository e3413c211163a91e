"""Prediction in row chunks bounded by sklearn's ``working_memory``."""

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from sklearn import config_context
from sklearn.datasets import make_classification

from skdeep import MLPClassifier, MLPRegressor, TabularMLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# A budget so small that every prediction below runs a few rows at a time.
TINY_MIB = 0.002


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=300, n_features=6, n_informative=4, random_state=0)
    return X, y


def _chunked_and_whole(method, X):
    whole = method(X)
    with config_context(working_memory=TINY_MIB):
        chunked = method(X)
    return chunked, whole


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba"])
def test_classifier_chunks_give_the_same_outputs(data, method):
    X, y = data
    clf = MLPClassifier(hidden_layer_sizes=(32, 16), max_iter=30, random_state=0).fit(X, y)
    chunked, whole = _chunked_and_whole(getattr(clf, method), X)
    np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-14)


def test_regressor_with_embeddings_chunks_give_the_same_outputs(data):
    X, y = data
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    frame["city"] = pd.Categorical(np.array(list("abcdefghij"))[np.arange(300) % 10])
    reg = MLPRegressor(hidden_layer_sizes=(16,), max_iter=20, categorical_features="from_dtype",
                       random_state=0).fit(frame, X[:, 0] + y)
    chunked, whole = _chunked_and_whole(reg.predict, frame)
    np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-12)
    with config_context(working_memory=TINY_MIB):
        assert reg.score(frame, X[:, 0] + y) == pytest.approx(reg.score(frame, X[:, 0] + y))


def test_tabular_chunks_give_the_same_outputs(data):
    X, y = data
    clf = TabularMLPClassifier(hidden_layer_sizes=(32,), max_iter=5, random_state=0).fit(X, y)
    chunked, whole = _chunked_and_whole(clf.predict_proba, X)
    np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-14)


def test_validation_pass_in_training_is_chunked_without_changing_the_fit(data):
    X, y = data
    params = dict(hidden_layer_sizes=(16,), max_iter=15, early_stopping=True, random_state=0)
    whole = MLPClassifier(**params).fit(X, y)
    with config_context(working_memory=TINY_MIB):
        chunked = MLPClassifier(**params).fit(X, y)
    assert chunked.validation_scores_ == whole.validation_scores_
    np.testing.assert_array_equal(chunked.coefs_[0], whole.coefs_[0])


def _peak_predict_mib(model, X, working_memory):
    with config_context(working_memory=working_memory):
        tracemalloc.start()
        try:
            model.predict(X)
            return tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()


def test_predict_memory_is_bounded_by_working_memory():
    # 40,000 rows through a 512-wide layer: 156 MiB per float64 buffer at
    # once; within an 8 MiB budget the peak is the budget plus the output.
    rng = np.random.RandomState(0)
    reg = MLPRegressor(hidden_layer_sizes=(512,), max_iter=2, random_state=0)
    reg.fit(rng.normal(size=(100, 20)), rng.normal(size=100))
    X = rng.normal(size=(40_000, 20))
    assert _peak_predict_mib(reg, X, working_memory=1024) > 150
    assert _peak_predict_mib(reg, X, working_memory=8) < 8 + 2
