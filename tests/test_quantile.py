"""loss="quantile" on MLPRegressor and TabularMLPRegressor."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_pinball_loss, r2_score

from skdeep import MLPRegressor, TabularMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

LEVELS = [0.05, 0.5, 0.95]


def heteroscedastic(n_samples=600, seed=0, shift=0.0, scale=1.0):
    """y = x0 + noise whose spread grows with |x1|: quantiles differ from the mean."""
    rng = np.random.RandomState(seed)
    X = rng.uniform(-2, 2, size=(n_samples, 3))
    y = X[:, 0] + (0.2 + np.abs(X[:, 1])) * rng.normal(size=n_samples)
    return X, shift + scale * y


def quick_mlp(**params):
    return MLPRegressor(hidden_layer_sizes=(32,), solver="lbfgs", max_iter=300,
                        random_state=0, **params)


def quick_tabular(**params):
    return TabularMLPRegressor(**{"hidden_layer_sizes": (64, 64), "max_iter": 25,
                                  "random_state": 0, **params})


def test_one_level_learns_that_quantile():
    X, y = heteroscedastic()
    model = quick_mlp(loss="quantile", quantile=0.8).fit(X, y)
    assert model.out_activation_ == "identity"
    assert model.predict(X).shape == (len(y),)
    assert np.mean(y <= model.predict(X)) == pytest.approx(0.8, abs=0.04)


@pytest.mark.parametrize("make_model", [quick_mlp, quick_tabular])
def test_several_levels_one_column_each_in_order(make_model):
    X, y = heteroscedastic(n_samples=600 if make_model is quick_mlp else 1200)
    # On a few hundred smooth rows the piecewise-linear encodings (a default
    # of the tabular model since they won on real tables), dropout and 25
    # epochs flatten the band's growth with |x1| to a ratio between 1.2 and
    # 1.9 depending on the seed: the check of the quantile loss itself runs
    # without them, on 1,200 rows and 40 epochs (2.5 to 3.3 over six seeds).
    params = ({"piecewise_bins": 0, "dropout": 0.0, "max_iter": 40}
              if make_model is quick_tabular else {})
    model = make_model(loss="quantile", quantile=LEVELS, **params).fit(X, y)
    bands = model.predict(X)
    assert bands.shape == (len(y), 3)
    assert model.n_outputs_ == 3
    assert model.out_activation_ == "cumulative_softplus"
    assert (np.diff(bands, axis=1) >= 0).all()
    coverage = [np.mean(y <= bands[:, k]) for k in range(3)]
    np.testing.assert_allclose(coverage, LEVELS, atol=0.06)
    # The band widens where the noise does (|x1| large), as quantiles should:
    # the noise's spread is about 4 times larger there; a band that ignored
    # x1 would have a ratio near 1.
    width = bands[:, 2] - bands[:, 0]
    wide = np.abs(X[:, 1]) > 1.5
    assert width[wide].mean() > (1.5 if make_model is quick_mlp else 2.0) * width[
        np.abs(X[:, 1]) < 0.5].mean()


def test_several_levels_beat_the_mean_model_on_pinball_loss():
    X, y = heteroscedastic(seed=1)
    X_test, y_test = heteroscedastic(seed=2)
    quantiles = quick_mlp(loss="quantile", quantile=LEVELS).fit(X, y).predict(X_test)
    mean = quick_mlp().fit(X, y).predict(X_test)
    for k, level in enumerate(LEVELS[::2]):
        column = 2 * k
        assert mean_pinball_loss(y_test, quantiles[:, column], alpha=level) < mean_pinball_loss(
            y_test, mean, alpha=level
        )


def test_tabular_quantiles_are_on_the_original_scale():
    # The target is standardised for training; predictions must come back as
    # quantiles of y itself, far from zero and with its spread.
    X, y = heteroscedastic(shift=1000.0, scale=50.0)
    model = quick_tabular(loss="quantile", quantile=LEVELS).fit(X, y)
    bands = model.predict(X)
    assert 900 < np.median(bands[:, 1]) < 1100
    np.testing.assert_allclose([np.mean(y <= bands[:, k]) for k in range(3)], LEVELS, atol=0.06)


def test_quantiles_of_a_target_unrelated_to_x_are_its_quantiles():
    rng = np.random.RandomState(3)
    X = rng.normal(size=(800, 2))
    y = 300.0 + 20.0 * rng.standard_exponential(800)
    model = quick_tabular(loss="quantile", quantile=[0.1, 0.9]).fit(X, y)
    np.testing.assert_allclose(
        np.median(model.predict(X), axis=0), np.quantile(y, [0.1, 0.9]), rtol=0.03
    )


@pytest.mark.parametrize("make_model", [quick_mlp, quick_tabular])
def test_score_is_r2_averaged_over_the_levels(make_model):
    X, y = heteroscedastic()
    model = make_model(loss="quantile", quantile=LEVELS).fit(X, y)
    bands = model.predict(X)
    expected = np.mean([r2_score(y, bands[:, k]) for k in range(3)])
    assert model.score(X, y) == pytest.approx(expected)


def test_early_stopping_of_quantiles_watches_the_pinball_loss():
    X, y = heteroscedastic()
    model = MLPRegressor(loss="quantile", quantile=LEVELS, early_stopping=True, max_iter=30,
                         random_state=0).fit(X, y)
    # The score is minus the validation loss, not R^2.
    assert model.best_validation_score_ < 0
    assert max(model.validation_scores_) == pytest.approx(model.best_validation_score_)
    tabular = quick_tabular(loss="quantile", quantile=LEVELS, n_networks=1).fit(X, y)
    np.testing.assert_allclose(
        tabular.validation_scores_, [-r["validation_loss"] for r in tabular.history_]
    )


def test_multi_output_y_with_one_level():
    X, y = heteroscedastic()
    Y = np.column_stack([y, -y])
    model = quick_mlp(loss="quantile", quantile=0.9).fit(X, Y)
    assert model.predict(X).shape == (len(y), 2)
    np.testing.assert_allclose(np.mean(Y <= model.predict(X), axis=0), [0.9, 0.9], atol=0.05)


@pytest.mark.parametrize("Estimator", [MLPRegressor, TabularMLPRegressor])
@pytest.mark.parametrize(
    "params, message",
    [
        ({"loss": "quantile"}, "loss='quantile' needs the level"),
        ({"quantile": 0.5}, "only used by loss='quantile'"),
        ({"loss": "quantile", "quantile": [0.5, 0.1]}, "sorted in increasing order"),
        ({"loss": "quantile", "quantile": [0.1, 0.1]}, "repeated levels"),
        ({"loss": "quantile", "quantile": [0.1, 1.2]}, "strictly between 0 and 1"),
        ({"loss": "quantile", "quantile": 1.0}, "'quantile' parameter"),
        ({"loss": "quantile", "quantile": 0.0}, "'quantile' parameter"),
    ],
)
def test_bad_quantile_settings_are_clear_errors(Estimator, params, message):
    X, y = heteroscedastic(n_samples=40)
    with pytest.raises(ValueError, match=message):
        Estimator(max_iter=2, **params).fit(X, y)


@pytest.mark.parametrize("Estimator", [MLPRegressor, TabularMLPRegressor])
def test_several_levels_refuse_a_multi_output_target(Estimator):
    X, y = heteroscedastic(n_samples=40)
    with pytest.raises(ValueError, match="2 quantile levels need a single target column"):
        Estimator(loss="quantile", quantile=[0.1, 0.9], max_iter=2).fit(X, np.c_[y, y])


def test_a_failed_refit_leaves_the_fitted_model_as_it_was():
    X, y = heteroscedastic(n_samples=100)
    model = quick_mlp(loss="quantile", quantile=[0.1, 0.9]).fit(X, y)
    before = model.predict(X)
    model.set_params(quantile=[0.9, 0.1])
    with pytest.raises(ValueError, match="sorted"):
        model.fit(X, y)
    np.testing.assert_array_equal(model.set_params(quantile=[0.1, 0.9]).predict(X), before)


def test_quantile_models_clone_and_refit_reproducibly():
    X, y = heteroscedastic(n_samples=150)
    model = quick_mlp(loss="quantile", quantile=LEVELS)
    np.testing.assert_array_equal(
        clone(model).fit(X, y).predict(X), clone(model).fit(X, y).predict(X)
    )


def test_warm_start_cannot_switch_from_several_levels_to_one():
    X, y = heteroscedastic(n_samples=100)
    model = MLPRegressor(loss="quantile", quantile=LEVELS, warm_start=True, max_iter=5,
                         random_state=0)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    model.set_params(quantile=0.5)
    with pytest.raises(ValueError, match="Refit with warm_start=False"):
        model.fit(X, y)
    assert model.predict(X).shape == (100, 3)
