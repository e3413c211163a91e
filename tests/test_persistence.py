"""Saving and loading fitted estimators: pickle, joblib and skops.

* a round trip keeps predictions bit-identical, for every solver;
* a model saved between ``partial_fit`` calls continues exactly as if it had
  never been saved (the optimizer's moments are part of the state), and so
  does a warm-started ``fit``;
* pickles carry skdeep's version, and loading one from another version
  warns;
* ``skops.io`` saves and loads the estimators, and the only type it asks the
  user to trust is the estimator class itself.
"""

import io
import pickle
import warnings
import zipfile

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import skdeep
from skdeep import MLPClassifier, MLPRegressor

ignore_convergence = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)

SOLVERS = ["adam", "sgd", "lbfgs", "adamw", "rmsprop"]
STOCHASTIC = ["adam", "sgd", "adamw", "rmsprop"]


def _data(Estimator, dtype=np.float64, seed=0):
    if Estimator is MLPClassifier:
        X, y = make_classification(
            n_samples=90, n_features=5, n_informative=3, n_redundant=0, n_classes=3,
            n_clusters_per_class=1, random_state=seed,
        )
    else:
        X, y = make_regression(n_samples=90, n_features=5, noise=1.0, random_state=seed)
        y = y / y.std()
    return StandardScaler().fit_transform(X).astype(dtype), y


def _fitted(Estimator, solver="adam", dtype=np.float64, **params):
    X, y = _data(Estimator, dtype)
    if params.get("loss") == "poisson":
        y = np.abs(y)
    params = {"hidden_layer_sizes": (6, 4), "max_iter": 8, "random_state": 0, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return Estimator(solver=solver, **params).fit(X, y), X, y


def _pickle_round_trip(estimator):
    return pickle.loads(pickle.dumps(estimator))


def _joblib_round_trip(estimator):
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


ROUND_TRIPS = {"pickle": _pickle_round_trip, "joblib": _joblib_round_trip}


def _outputs(estimator, X):
    """Everything the estimator computes from X."""
    outputs = {"predict": estimator.predict(X)}
    if isinstance(estimator, MLPClassifier):
        outputs["predict_proba"] = estimator.predict_proba(X)
        outputs["predict_log_proba"] = estimator.predict_log_proba(X)
        outputs["predict_logits"] = estimator.predict_logits(X)
    return outputs


def _assert_same_outputs(a, b, X):
    out_a, out_b = _outputs(a, X), _outputs(b, X)
    for name in out_a:
        assert out_a[name].dtype == out_b[name].dtype, name
        assert np.array_equal(out_a[name], out_b[name]), name


def _assert_same_weights(a, b):
    for attr in ("coefs_", "intercepts_"):
        for wa, wb in zip(getattr(a, attr), getattr(b, attr), strict=True):
            assert wa.dtype == wb.dtype
            assert np.array_equal(wa, wb), attr


# --------------------------------------------------------------------------
# pickle and joblib
# --------------------------------------------------------------------------


@pytest.mark.parametrize("round_trip", ROUND_TRIPS)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_round_trip_predictions_bit_identical(Estimator, solver, round_trip):
    estimator, X, _ = _fitted(Estimator, solver)
    loaded = ROUND_TRIPS[round_trip](estimator)
    assert type(loaded) is Estimator
    assert loaded.get_params() == estimator.get_params()
    _assert_same_weights(estimator, loaded)
    _assert_same_outputs(estimator, loaded, X)


@pytest.mark.parametrize(
    "Estimator, params, dtype",
    [
        (MLPClassifier, {"activation": ["gelu", "selu"], "dropout": [0.2, 0.0]}, np.float32),
        (MLPClassifier, {"early_stopping": True, "class_weight": "balanced"}, np.float64),
        (MLPRegressor, {"loss": "huber", "activation": "softplus"}, np.float32),
        (MLPRegressor, {"loss": "poisson", "init": "he"}, np.float64),
    ],
    ids=["clf-per-layer-f32", "clf-early-stopping", "reg-huber-f32", "reg-poisson"],
)
def test_round_trip_keeps_every_fitted_attribute(Estimator, params, dtype):
    estimator, X, y = _fitted(Estimator, dtype=dtype, **params)
    loaded = _pickle_round_trip(estimator)
    fitted = [name for name in vars(estimator) if name.endswith("_") and not name.startswith("_")]
    assert set(fitted) == {n for n in vars(loaded) if n.endswith("_") and not n.startswith("_")}
    for name in ("n_iter_", "t_", "loss_", "loss_curve_", "best_loss_", "validation_scores_",
                 "best_validation_score_", "history_", "out_activation_", "n_outputs_"):
        assert getattr(loaded, name) == getattr(estimator, name), name
    _assert_same_outputs(estimator, loaded, X)


def test_string_and_multilabel_targets_round_trip():
    X, y = _data(MLPClassifier)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        strings = MLPClassifier(max_iter=5, random_state=0).fit(X, np.array(["a", "b", "c"])[y])
        Xm, Ym = make_multilabel_classification(n_samples=60, n_features=5, random_state=0)
        multilabel = MLPClassifier(max_iter=5, random_state=0).fit(Xm, Ym)
    loaded = _joblib_round_trip(strings)
    assert np.array_equal(loaded.classes_, strings.classes_)
    _assert_same_outputs(strings, loaded, X)
    _assert_same_outputs(multilabel, _joblib_round_trip(multilabel), Xm)


@pytest.mark.parametrize("round_trip", ROUND_TRIPS)
@pytest.mark.parametrize("solver", STOCHASTIC)
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_partial_fit_continues_identically_after_a_round_trip(Estimator, solver, round_trip):
    """partial_fit x3 == partial_fit x1, save, load, partial_fit x2 (bit for bit)."""
    X, y = _data(Estimator)
    kwargs = {"classes": np.unique(y)} if Estimator is MLPClassifier else {}
    params = dict(hidden_layer_sizes=(6, 4), solver=solver, random_state=0, batch_size=32)

    uninterrupted = Estimator(**params)
    for _ in range(3):
        uninterrupted.partial_fit(X, y, **kwargs)

    resumed = Estimator(**params).partial_fit(X, y, **kwargs)
    resumed = ROUND_TRIPS[round_trip](resumed)
    for _ in range(2):
        resumed.partial_fit(X, y)

    _assert_same_weights(uninterrupted, resumed)
    assert resumed.t_ == uninterrupted.t_
    assert resumed.loss_curve_ == uninterrupted.loss_curve_
    _assert_same_outputs(uninterrupted, resumed, X)


def test_partial_fit_continuation_needs_the_saved_optimizer_state():
    """Control for the test above: without Adam's moments training diverges
    from the uninterrupted run, so the round trip really carries them."""
    X, y = _data(MLPRegressor)
    uninterrupted = MLPRegressor(hidden_layer_sizes=(6,), random_state=0)
    for _ in range(3):
        uninterrupted.partial_fit(X, y)
    restarted = _pickle_round_trip(MLPRegressor(hidden_layer_sizes=(6,), random_state=0)
                                   .partial_fit(X, y))
    del restarted._optimizer_state
    for _ in range(2):
        restarted.partial_fit(X, y)
    assert not np.array_equal(uninterrupted.coefs_[0], restarted.coefs_[0])


def test_partial_fit_with_a_random_state_instance_continues_identically():
    """A RandomState passed as random_state is pickled with its position."""
    X, y = _data(MLPClassifier)
    classes = np.unique(y)

    def model():
        return MLPClassifier(hidden_layer_sizes=(5,), random_state=np.random.RandomState(7),
                             batch_size=16)

    uninterrupted = model()
    for _ in range(3):
        uninterrupted.partial_fit(X, y, classes=classes)
    resumed = _pickle_round_trip(model().partial_fit(X, y, classes=classes))
    for _ in range(2):
        resumed.partial_fit(X, y)
    _assert_same_weights(uninterrupted, resumed)


@ignore_convergence
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_warm_start_fit_continues_identically_after_a_round_trip(Estimator, solver):
    """warm_start: fit, save, load, fit == fit, fit. (A warm-started fit
    restarts the optimizer, as in sklearn, so only the weights and progress
    counters have to survive the round trip.)"""
    X, y = _data(Estimator)
    params = dict(hidden_layer_sizes=(6,), solver=solver, max_iter=4, warm_start=True,
                  random_state=0)
    uninterrupted = Estimator(**params).fit(X, y).fit(X, y)
    resumed = _pickle_round_trip(Estimator(**params).fit(X, y)).fit(X, y)
    _assert_same_weights(uninterrupted, resumed)
    assert resumed.loss_curve_ == uninterrupted.loss_curve_


# --------------------------------------------------------------------------
# version tag
# --------------------------------------------------------------------------


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_state_is_tagged_with_the_skdeep_version(Estimator):
    estimator, _, _ = _fitted(Estimator)
    state = estimator.__getstate__()
    assert state["_skdeep_version"] == skdeep.__version__
    loaded = _pickle_round_trip(estimator)
    assert not hasattr(loaded, "_skdeep_version")


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_saving_does_not_change_the_estimator(Estimator):
    """__getstate__ returns a new dict: the tag is not added to the model."""
    estimator, _, _ = _fitted(Estimator)
    before = set(vars(estimator))
    state = estimator.__getstate__()
    pickle.dumps(estimator)
    assert state is not estimator.__dict__
    assert set(vars(estimator)) == before


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_loading_the_same_version_does_not_warn(Estimator):
    estimator, _, _ = _fitted(Estimator)
    data = pickle.dumps(estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.loads(data)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_loading_another_version_warns(Estimator):
    estimator, X, _ = _fitted(Estimator)
    state = dict(estimator.__getstate__())
    state["_skdeep_version"] = "0.0.1"
    new = Estimator.__new__(Estimator)
    with pytest.warns(UserWarning, match="0.0.1") as record:
        new.__setstate__(state)
    message = str(record[0].message)
    assert skdeep.__version__ in message
    assert Estimator.__name__ in message
    # The model is usable all the same.
    assert np.array_equal(new.predict(X), estimator.predict(X))


def test_loading_another_versions_pickle_warns():
    """The same through pickle itself: a pickle whose tag was rewritten."""
    estimator, _, _ = _fitted(MLPClassifier)
    data = pickle.dumps(estimator, protocol=4)
    tag = skdeep.__version__.encode()
    other = b"9" * len(tag)  # same length: the pickle's framing stays valid
    assert data.count(tag) == 1
    with pytest.warns(UserWarning, match=other.decode()):
        pickle.loads(data.replace(tag, other))


# --------------------------------------------------------------------------
# skops
# --------------------------------------------------------------------------


@pytest.fixture
def sio():
    return pytest.importorskip("skops.io")


SKOPS_CASES = [
    (MLPClassifier, "adam", {}),
    (MLPClassifier, "sgd", {"early_stopping": True, "class_weight": {0: 1.0, 1: 2.0, 2: 1.0}}),
    (MLPClassifier, "lbfgs", {"activation": ["gelu", "tanh"]}),
    (MLPClassifier, "rmsprop", {"random_state": np.random.RandomState(0), "dropout": 0.1}),
    (MLPRegressor, "adamw", {"learning_rate": "cosine", "scoring": "loss"}),
    (MLPRegressor, "lbfgs", {"loss": "absolute_error"}),
]


@pytest.mark.parametrize(
    "Estimator, solver, params", SKOPS_CASES,
    ids=[f"{E.__name__}-{s}" for E, s, _ in SKOPS_CASES],
)
def test_skops_round_trip_trusts_only_the_estimator(sio, tmp_path, Estimator, solver, params):
    estimator, X, _ = _fitted(Estimator, solver, **params)
    path = tmp_path / "model.skops"
    sio.dump(estimator, path)

    untrusted = sio.get_untrusted_types(file=path)
    qualified_name = f"{Estimator.__module__}.{Estimator.__qualname__}"
    assert untrusted == [qualified_name]

    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.load(path)
    loaded = sio.load(path, trusted=untrusted)
    assert type(loaded) is Estimator
    _assert_same_weights(estimator, loaded)
    _assert_same_outputs(estimator, loaded, X)


def test_skops_string_labels_and_float32(sio):
    X, y = _data(MLPClassifier, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = MLPClassifier(max_iter=5, random_state=0).fit(X, np.array(["x", "y", "z"])[y])
    data = sio.dumps(estimator)
    assert sio.get_untrusted_types(data=data) == ["skdeep._classifier.MLPClassifier"]
    loaded = sio.loads(data, trusted=["skdeep._classifier.MLPClassifier"])
    assert loaded.coefs_[0].dtype == np.float32
    _assert_same_outputs(estimator, loaded, X)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_skops_partial_fit_continues_identically(sio, Estimator):
    X, y = _data(Estimator)
    kwargs = {"classes": np.unique(y)} if Estimator is MLPClassifier else {}
    params = dict(hidden_layer_sizes=(6,), random_state=0)
    uninterrupted = Estimator(**params)
    for _ in range(3):
        uninterrupted.partial_fit(X, y, **kwargs)
    data = sio.dumps(Estimator(**params).partial_fit(X, y, **kwargs))
    resumed = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    for _ in range(2):
        resumed.partial_fit(X, y)
    _assert_same_weights(uninterrupted, resumed)


def test_skops_user_scorer_is_reported(sio):
    """A callable ``scoring`` is the user's code: skops lists it as untrusted."""
    from sklearn.metrics import f1_score, make_scorer

    estimator, _, _ = _fitted(
        MLPClassifier, early_stopping=True, scoring=make_scorer(f1_score, average="macro")
    )
    untrusted = sio.get_untrusted_types(data=sio.dumps(estimator))
    assert "skdeep._classifier.MLPClassifier" in untrusted
    assert "sklearn.metrics._scorer._Scorer" in untrusted


def test_skops_load_of_another_version_warns(sio):
    """skops restores the state through __setstate__: the version check runs."""
    estimator, _, _ = _fitted(MLPRegressor)
    data = sio.dumps(estimator)
    # Rewrite the version inside the archive's schema.
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "schema.json":
                # The str node holds its JSON encoding, escaped in the schema.
                tag = f'\\"{skdeep.__version__}\\"'.encode()
                assert content.count(tag) == 1
                content = content.replace(tag, b'\\"0.0.1\\"')
            target.writestr(item, content)
    with pytest.warns(UserWarning, match="0.0.1"):
        sio.loads(buffer.getvalue(), trusted=["skdeep._regressor.MLPRegressor"])
