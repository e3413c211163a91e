"""TabularMLPClassifier / TabularMLPRegressor: raw tables in, sklearn behaviour out."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdeep import TabularMLPClassifier, TabularMLPRegressor
from skdeep._estimator_checks import expected_failed_checks

# One network: these tests look at the network and its training (the
# ensembles have tests of their own below).
FAST = dict(hidden_layer_sizes=(16, 16), max_iter=8, random_state=0, n_networks=1)
# The checks run on single networks (what every member of an ensemble is)
# and on one small ensemble of each task: an ensemble's prediction path
# averages its members' outputs.
CHECKS = dict(hidden_layer_sizes=(32,), max_iter=40, random_state=0, n_networks=1)
ENSEMBLE_CHECKS = {**CHECKS, "n_networks": 2}


@parametrize_with_checks(
    [TabularMLPClassifier(**CHECKS), TabularMLPRegressor(**CHECKS),
     TabularMLPRegressor(loss="quantile", quantile=0.5, **CHECKS),
     TabularMLPClassifier(**ENSEMBLE_CHECKS), TabularMLPRegressor(**ENSEMBLE_CHECKS)],
    expected_failed_checks=expected_failed_checks, xfail_strict=True,
)
def test_sklearn_compatible_tabular_estimator(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check(estimator)


def raw_table(n_samples=300, seed=0):
    """Numeric, integer, boolean, string and category columns, with NaN."""
    rng = np.random.RandomState(seed)
    size = rng.normal(size=n_samples)
    size[rng.rand(n_samples) < 0.1] = np.nan
    color = rng.choice(["red", "green", "blue"], n_samples).astype(object)
    color[rng.rand(n_samples) < 0.05] = None
    city = pd.Categorical(rng.choice([f"c{i}" for i in range(20)], n_samples))
    frame = pd.DataFrame({
        "size": size,
        "count": rng.randint(0, 5, n_samples),
        "flag": rng.rand(n_samples) < 0.5,
        "color": color,
        "city": city,
    })
    signal = np.nan_to_num(size) + (color == "red") - 0.5 * frame["flag"] + (
        np.asarray(city.codes) % 3 == 0
    )
    return frame, signal


def test_raw_dataframe_with_strings_categories_booleans_and_nan():
    X, signal = raw_table()
    y = np.where(signal > np.median(signal), "high", "low")
    clf = TabularMLPClassifier(max_iter=20, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.8
    assert list(clf.is_categorical_) == [False, False, False, True, True]
    assert list(clf.one_hot_) == [True, False]  # 3 colors one-hot, 20 cities embedded
    assert list(clf.missing_indicator_) == [True, False, False]
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # Unseen categories and missing values at predict time are "unknown".
    X_new = X.head(3).copy()
    X_new["color"] = ["purple", None, "red"]
    X_new["city"] = pd.Categorical(["nowhere", None, "c1"])
    assert clf.predict(X_new).shape == (3,)


def test_regressor_learns_and_predicts_on_the_target_scale():
    X, signal = raw_table(seed=1)
    y = 1000.0 + 50.0 * signal
    reg = TabularMLPRegressor(max_iter=20, random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.8
    prediction = reg.predict(X)
    assert prediction.min() >= y.min() and prediction.max() <= y.max()


def test_same_random_state_same_model():
    X, signal = raw_table()
    y = signal > 0
    a = TabularMLPClassifier(**FAST).fit(X, y)
    b = TabularMLPClassifier(**FAST).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


@pytest.mark.parametrize("Estimator", [TabularMLPClassifier, TabularMLPRegressor])
def test_pickle_clone_and_search(Estimator):
    X, signal = raw_table()
    y = signal > 0 if Estimator is TabularMLPClassifier else signal
    model = Estimator(**FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert not hasattr(clone(model), "coefs_")
    search = GridSearchCV(Estimator(**FAST), {"dropout": [0.0, 0.15]}, cv=2).fit(X, y)
    assert search.best_params_["dropout"] in (0.0, 0.15)


def test_explicit_validation_set_selects_the_epoch():
    X, signal = raw_table()
    y = signal > 0
    clf = TabularMLPClassifier(**FAST).fit(X[:200], y[:200], X_val=X[200:], y_val=y[200:])
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_bad_input_names_the_column():
    X, signal = raw_table()
    y = signal > 0
    clf = TabularMLPClassifier(**FAST).fit(X, y)
    changed = X.copy()
    changed["size"] = "big"
    with pytest.raises(ValueError, match="'size'"):
        clf.predict(changed)
    with pytest.raises(ValueError, match="extra|unseen|not seen|Feature names"):
        clf.predict(X.assign(extra=1.0))
    empty = X.copy()
    empty["size"] = np.nan
    with pytest.raises(ValueError, match="Column 'size' has no values"):
        TabularMLPClassifier(**FAST).fit(empty, y)
    y_missing = signal.astype(float).copy()
    y_missing[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        TabularMLPRegressor(**FAST).fit(X, y_missing)
    labels = np.where(y, "a", None)
    with pytest.raises(ValueError, match="missing values"):
        TabularMLPClassifier(**FAST).fit(X, labels)


def test_failed_fit_leaves_a_fitted_model_unchanged():
    X, signal = raw_table()
    y = signal > 0
    clf = TabularMLPClassifier(**FAST).fit(X, y)
    before = clf.predict_proba(X)
    empty = X.copy()
    empty["size"] = np.nan
    with pytest.raises(ValueError):
        clf.fit(empty, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_without_best_epoch_selection_all_rows_train_and_the_last_epoch_stays():
    X, y = make_classification(n_samples=300, n_features=5, random_state=0)
    clf = TabularMLPClassifier(hidden_layer_sizes=(16,), max_iter=6, n_networks=1, early_stopping=False,
                               random_state=0).fit(X, y)
    assert clf.best_validation_score_ is None
    assert clf.validation_scores_ is None
    assert clf.n_iter_ == 6
    assert len(clf.loss_curve_) == 6


def test_the_schedule_is_a_parameter():
    X, y = make_regression(n_samples=200, n_features=4, random_state=0)
    constant = TabularMLPRegressor(hidden_layer_sizes=(16,), max_iter=4, n_networks=1,
                                   learning_rate="constant",
                                   random_state=0).fit(X, y)
    coslog = TabularMLPRegressor(hidden_layer_sizes=(16,), max_iter=4, n_networks=1,
                                 random_state=0).fit(X, y)
    assert constant.loss_curve_ != coslog.loss_curve_
    with pytest.raises(ValueError, match="learning_rate"):
        TabularMLPRegressor(learning_rate="warp").fit(X, y)


@pytest.mark.parametrize("n_networks", [1, 2])
@pytest.mark.parametrize("Estimator", [TabularMLPClassifier, TabularMLPRegressor])
def test_skops_round_trip_of_a_raw_table_model(Estimator, n_networks, tmp_path):
    sio = pytest.importorskip("skops.io")
    X, signal = raw_table()
    y = np.where(signal > 0, "yes", "no") if Estimator is TabularMLPClassifier else signal
    model = Estimator(**{**FAST, "n_networks": n_networks}).fit(X, y)
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == [f"{Estimator.__module__}.{Estimator.__qualname__}"]
    loaded = sio.load(path, trusted=untrusted)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert list(loaded.categories_[0]) == list(model.categories_[0])


def test_parametric_activations_are_learned_and_restored():
    X, signal = raw_table()
    y = signal > 0
    clf = TabularMLPClassifier(**FAST, parametric_activation=True).fit(X, y)
    strengths = clf.activation_strength_
    assert [s.shape for s in strengths] == [(W.shape[1],) for W in clf.coefs_[:-1]]
    assert not np.allclose(np.concatenate(strengths), 1.0)  # moved from their start
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    # The strengths are part of the model: a linear unit predicts differently.
    clf.activation_strength_ = [np.zeros_like(s) for s in strengths]
    assert not np.allclose(clf.predict_proba(X), restored.predict_proba(X))
    assert not hasattr(TabularMLPClassifier(**FAST).fit(X, y), "activation_strength_")


def test_piecewise_linear_bins_are_learned_from_the_scaled_columns():
    X, signal = raw_table()
    reg = TabularMLPRegressor(**FAST, piecewise_bins=6).fit(X, signal)
    # One row of bins per scaled numeric column: size, count, flag.
    assert reg.bin_lower_.shape == reg.bin_inverse_width_.shape == (3, 6)
    # "count" holds 5 values and "flag" 2: 4 bins and 1, the rest unused.
    assert (reg.bin_inverse_width_ > 0).sum(axis=1).tolist() == [6, 4, 1]
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))
    # The bins are part of the model: other bins predict differently.
    reg.bin_lower_ = reg.bin_lower_ + 0.5
    assert not np.allclose(reg.predict(X), restored.predict(X))
    assert not hasattr(TabularMLPRegressor(**FAST, piecewise_bins=0).fit(X, signal),
                       "bin_lower_")


def test_learned_piecewise_features_are_per_network_and_restored(tmp_path):
    sio = pytest.importorskip("skops.io")
    X, signal = raw_table()
    params = {**FAST, "n_networks": 2, "piecewise_bins": 6, "piecewise_features": 3}
    clf = TabularMLPClassifier(**params).fit(X, signal > 0)
    coef, intercept = clf.estimators_[0].piecewise_embedding_
    assert coef.shape == (3, 6, 3) and intercept.shape == (3, 3)
    assert not np.allclose(coef, clf.estimators_[1].piecewise_embedding_[0])
    assert not hasattr(clf, "piecewise_embedding_")  # each member has its own
    path = tmp_path / "model.skops"
    sio.dump(clf, path)
    loaded = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def exact_value_table(n_samples=1200, seed=0):
    """A class given by a numeric column's exact value, not its magnitude."""
    rng = np.random.RandomState(seed)
    prices = np.round(rng.uniform(10, 100, size=60), 2)
    label_of_price = rng.permutation(np.arange(60) % 2)
    index = rng.randint(60, size=n_samples)
    X = pd.DataFrame({"price": prices[index], "noise": rng.normal(size=n_samples)})
    return X, label_of_price[index]


def test_value_embeddings_single_out_exact_values():
    X, y = exact_value_table()
    params = {**FAST, "hidden_layer_sizes": (32,), "max_iter": 24}
    with_values = TabularMLPClassifier(**params, value_embedding_min_count=4).fit(
        X[:900], y[:900])
    without = TabularMLPClassifier(**params, value_embedding_min_count=0).fit(X[:900], y[:900])
    # Magnitude alone says little about the class; the exact value says it all.
    assert with_values.score(X[900:], y[900:]) > 0.95
    assert without.score(X[900:], y[900:]) < 0.85
    np.testing.assert_array_equal(with_values.frequent_values_[0], np.unique(X.price[:900]))
    assert with_values.frequent_values_[1].size == 0  # continuous: no value repeats
    assert [table.shape for table in with_values.embeddings_] == [(61, 8)]
    assert [len(v) for v in without.frequent_values_] == [0, 0]


def test_unseen_and_missing_values_use_the_shared_row():
    X, y = exact_value_table()
    clf = TabularMLPClassifier(**FAST, value_embedding_min_count=4).fit(X, y)
    unseen = X[:3].assign(price=[10.001, np.nan, 1e6])
    proba = clf.predict_proba(unseen)
    assert np.isfinite(proba).all()
    # The value's table row is part of the model: another row predicts differently.
    restored = pickle.loads(pickle.dumps(clf))
    clf.embeddings_[0][1:] += 1.0
    assert not np.allclose(clf.predict_proba(X[:50]), restored.predict_proba(X[:50]))
    np.testing.assert_array_equal(clf.predict_proba(unseen), restored.predict_proba(unseen))


def test_columns_the_bins_already_separate_get_no_value_embeddings():
    X, signal = raw_table()  # "count" holds five distinct values
    count = list(X.columns).index("count")
    signal = signal + 2.0 * (X["count"] == 0)  # four bins join 0 and 1
    for bins, expected in [(5, 0), (4, 5)]:
        reg = TabularMLPRegressor(**FAST, piecewise_bins=bins, value_embedding_min_count=3)
        reg.fit(X, signal)
        numeric = list(np.flatnonzero(~reg.is_categorical_))
        values = reg.frequent_values_[numeric.index(count)]
        assert values.size == expected, bins


def test_smooth_columns_get_no_value_embeddings():
    # Many repeated values, but the target follows the magnitude.
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"minutes": np.round(rng.uniform(0, 300, size=2000))})
    y = X["minutes"].to_numpy() / 100 + rng.normal(size=2000)
    reg = TabularMLPRegressor(**FAST, value_embedding_min_count=4).fit(X, y)
    assert (X["minutes"].value_counts() >= 4).sum() > 250  # the count rule alone would embed
    assert reg.frequent_values_[0].size == 0 and not hasattr(reg, "embeddings_")
    untested = clone(reg).set_params(value_embedding_min_gain=None).fit(X, y)
    assert untested.frequent_values_[0].size > 250


def test_value_embeddings_follow_the_categorical_ones():
    X, signal = raw_table()
    signal = signal + 2.0 * (X["count"] == 0)
    # Four bins leave the five counts to the value embeddings.
    reg = TabularMLPRegressor(**FAST, max_one_hot=1, piecewise_bins=4,
                              value_embedding_min_count=3).fit(X, signal)
    categorical = np.flatnonzero(reg.is_categorical_)
    with_values = np.flatnonzero(~reg.is_categorical_)[[v.size > 0 for v in reg.frequent_values_]]
    assert categorical.size > 0 and with_values.size > 0
    np.testing.assert_array_equal(reg._embedded_columns(),
                                  np.concatenate([categorical, with_values]))
    assert len(reg.embeddings_) == len(reg._embedded_columns())


# Ensembles (n_networks > 1) ---------------------------------------------------

ENSEMBLE = {"hidden_layer_sizes": (16,), "max_iter": 6, "random_state": 0}


def test_an_ensemble_averages_its_members_probabilities():
    X, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_classes=3,
                               random_state=0)
    clf = TabularMLPClassifier(n_networks=3, **ENSEMBLE).fit(X, y)
    assert len(clf.estimators_) == 3 and not hasattr(clf, "coefs_")
    members = [member.predict_proba(X) for member in clf.estimators_]
    np.testing.assert_allclose(clf.predict_proba(X), np.mean(members, axis=0))
    np.testing.assert_array_equal(clf.predict(X),
                                  clf.classes_[np.mean(members, axis=0).argmax(axis=1)])
    # Each member is a one-network model of its own seed.
    assert [member.n_networks for member in clf.estimators_] == [1, 1, 1]
    assert len({member.random_state for member in clf.estimators_}) == 3
    assert not np.allclose(members[0], members[1])
    np.testing.assert_array_equal(clf.n_iter_, [m.n_iter_ for m in clf.estimators_])


def test_an_ensemble_regressor_averages_its_members_predictions():
    X, y = make_regression(n_samples=300, n_features=5, noise=5.0, random_state=0)
    reg = TabularMLPRegressor(n_networks=2, **ENSEMBLE).fit(X, y)
    members = np.array([member.predict(X) for member in reg.estimators_])
    # Predictions are clipped to the training range after averaging.
    unclipped = ((members > y.min()) & (members < y.max())).all(axis=0)
    assert unclipped.mean() > 0.9
    np.testing.assert_allclose(reg.predict(X)[unclipped], members.mean(axis=0)[unclipped])


def test_an_ensemble_of_quantile_networks_never_crosses():
    X, y = make_regression(n_samples=300, n_features=5, noise=20.0, random_state=0)
    reg = TabularMLPRegressor(n_networks=2, loss="quantile", quantile=[0.1, 0.5, 0.9],
                              **ENSEMBLE).fit(X, y)
    assert (np.diff(reg.predict(X), axis=1) >= 0).all()


def test_an_ensemble_is_reproducible_and_a_refit_replaces_it():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    first = TabularMLPClassifier(n_networks=2, **ENSEMBLE).fit(X, y).predict_proba(X)
    model = TabularMLPClassifier(n_networks=2, **ENSEMBLE).fit(X, y)
    np.testing.assert_array_equal(model.predict_proba(X), first)
    model.set_params(n_networks=1).fit(X, y)
    assert hasattr(model, "coefs_") and not hasattr(model, "estimators_")
    model.set_params(n_networks=2).fit(X, y)
    assert not hasattr(model, "coefs_") and len(model.estimators_) == 2


def test_a_failed_ensemble_fit_leaves_the_ensemble_as_it_was():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    model = TabularMLPClassifier(n_networks=2, **ENSEMBLE).fit(X, y)
    before = model.predict_proba(X)
    with pytest.raises(ValueError, match="missing values"):
        model.fit(X, np.where(y == 1, np.nan, y))
    np.testing.assert_array_equal(model.predict_proba(X), before)
    assert len(model.estimators_) == 2


def test_an_ensemble_pickles_and_searches():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    model = TabularMLPClassifier(n_networks=2, **ENSEMBLE).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    search = GridSearchCV(TabularMLPClassifier(**ENSEMBLE), {"n_networks": [1, 2]}, cv=2)
    assert search.fit(X, y).best_params_["n_networks"] in (1, 2)


def test_x_and_y_of_different_lengths_are_an_error_before_anything_is_learned():
    clf = TabularMLPClassifier(**FAST, value_embedding_min_count=2)
    with pytest.raises(ValueError, match="X has 4 rows but y has 3"):
        clf.fit(pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0]}), [0, 1, 0])
    assert not hasattr(clf, "n_features_in_")


def test_the_auto_budget_shrinks_the_epochs_as_the_square_root_of_the_rows():
    from skdeep._tabular import auto_epochs

    assert [auto_epochs(n) for n in (100, 50_000)] == [20, 20]
    assert auto_epochs(200_000) == 10  # four times the rows, half the epochs
    assert auto_epochs(10_000_000) == 4  # the floor
    epochs = [auto_epochs(n) for n in range(50_000, 3_000_000, 997)]
    assert all(a >= b for a, b in zip(epochs, epochs[1:]))
    # The rows seen in training still grow with the table.
    seen = [n * auto_epochs(n) for n in (50_000, 200_000, 800_000, 3_000_000)]
    assert seen == sorted(seen)


@pytest.mark.parametrize("max_iter, expected", [("auto", 20), (3, 3)])
def test_max_iter_auto_or_a_number_sets_the_epochs_run(max_iter, expected):
    X, y = make_classification(n_samples=150, n_features=4, random_state=0)
    clf = TabularMLPClassifier(hidden_layer_sizes=(8,), n_networks=1, random_state=0,
                               max_iter=max_iter, early_stopping=False).fit(X, y)
    assert clf.n_iter_ == expected and len(clf.loss_curve_) == expected


def _scripted_validation(monkeypatch, Estimator, curves):
    """Fits of ``Estimator`` see ``curves[i][e]`` as member ``i``'s score of epoch ``e``."""
    real = Estimator._evaluation

    def scripted(self, draft, network, data, rows):
        evaluate, epochs = real(self, draft, network, data, rows), iter(range(len(curves[0])))

        def scores(network, team=None):
            epoch = next(epochs)
            return np.array([curve[epoch] for curve in curves]), evaluate(network, team)[1]
        return scores

    monkeypatch.setattr(Estimator, "_evaluation", scripted)


# Every member peaks at epoch 5, inside the second cycle of a 20-epoch coslog run
# (which ends at epoch 4), then gets worse through the third (which ends at 10).
_OVERFITTING = [[0.5 + 0.01 * min(e, 4) - 0.002 * max(e - 4, 0) + 0.0001 * i
                 for e in range(20)] for i in range(3)]


def test_a_fit_stops_at_a_cycle_end_when_every_network_overfits(monkeypatch, capsys):
    X, y = make_classification(n_samples=150, n_features=4, random_state=0)
    _scripted_validation(monkeypatch, TabularMLPClassifier, _OVERFITTING)
    params = dict(hidden_layer_sizes=(8,), max_iter=20, random_state=0, verbose=True)
    clf = TabularMLPClassifier(**params).fit(X, y)
    assert list(clf.n_iter_) == [10, 10, 10]
    assert "Epoch 10 ends a learning-rate cycle" in capsys.readouterr().out
    # The kept weights are each network's best epoch, as in a full run.
    assert [member.best_validation_score_ for member in clf.estimators_] == [
        max(curve) for curve in _OVERFITTING]
    full = TabularMLPClassifier(**params, stop_when_overfitting=False).fit(X, y)
    assert list(full.n_iter_) == [20, 20, 20]
    np.testing.assert_array_equal(full.predict_proba(X), clf.predict_proba(X))


def test_one_network_still_learning_keeps_the_fit_going(monkeypatch):
    X, y = make_classification(n_samples=150, n_features=4, random_state=0)
    curves = [list(curve) for curve in _OVERFITTING]
    curves[1][8] = 0.6  # network 2 sets its best in the falling half of the third cycle
    _scripted_validation(monkeypatch, TabularMLPClassifier, curves)
    clf = TabularMLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, y)
    assert list(clf.n_iter_) == [20, 20, 20]


def test_a_bad_max_iter_is_refused_by_name():
    with pytest.raises(ValueError, match="max_iter"):
        TabularMLPClassifier(max_iter="many").fit([[0.0], [1.0]], [0, 1])
