"""Prediction intervals with skdeep: MAPIE's conformal regressors and CQR.

Split conformal calibration promises that a 90 % interval covers at least
90 % of new rows on average (and, with n calibration rows, at most about
90 % + 1 / n); these tests measure coverage on held-out rows of real data
(scikit-learn's diabetes table) and of a large synthetic set.
"""

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdeep import MLPRegressor

mapie_regression = pytest.importorskip("mapie.regression")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SEEDS = range(5)


def three_way_split(X, y, seed):
    """Half the rows to train, a quarter to calibrate, a quarter to test."""
    X_train, X_rest, y_train, y_rest = train_test_split(X, y, train_size=0.5,
                                                        random_state=seed)
    X_cal, X_test, y_cal, y_test = train_test_split(X_rest, y_rest, train_size=0.5,
                                                    random_state=seed)
    return X_train, X_cal, X_test, y_train, y_cal, y_test


def network(seed, **params):
    return make_pipeline(StandardScaler(), MLPRegressor(
        hidden_layer_sizes=(16,), solver="lbfgs", alpha=1.0, max_iter=300,
        random_state=seed, **params))


def conformal_margin(lower, upper, y, coverage=0.9):
    """Split-conformal CQR margin (Romano et al., 2019) from calibration rows."""
    scores = np.sort(np.maximum(lower - y, y - upper))
    rank = int(np.ceil((len(y) + 1) * coverage))
    return scores[min(rank, len(y)) - 1]


def covered(y, lower, upper):
    return float(np.mean((y >= lower) & (y <= upper)))


def test_mapie_split_conformal_around_a_skdeep_network():
    X, y = load_diabetes(return_X_y=True)
    coverages = []
    for seed in SEEDS:
        X_train, X_cal, X_test, y_train, y_cal, y_test = three_way_split(X, y, seed)
        mapie = mapie_regression.SplitConformalRegressor(
            network(seed), confidence_level=0.9, prefit=False)
        mapie.fit(X_train, y_train).conformalize(X_cal, y_cal)
        points, bounds = mapie.predict_interval(X_test)
        assert points.shape == (len(y_test),) and bounds.shape == (len(y_test), 2, 1)
        coverages.append(covered(y_test, bounds[:, 0, 0], bounds[:, 1, 0]))
    assert 0.86 <= np.mean(coverages) <= 0.95


def test_mapie_cqr_with_prefit_skdeep_quantile_networks():
    X, y = load_diabetes(return_X_y=True)
    X_train, X_cal, X_test, y_train, y_cal, y_test = three_way_split(X, y, 0)
    # MAPIE's order: lower, upper, median.
    quantiles = [network(0, loss="quantile", quantile=level).fit(X_train, y_train)
                 for level in (0.05, 0.95, 0.5)]
    cqr = mapie_regression.ConformalizedQuantileRegressor(quantiles, confidence_level=0.9,
                                                          prefit=True)
    cqr.conformalize(X_cal, y_cal)
    _, bounds = cqr.predict_interval(X_test)
    assert 0.8 <= covered(y_test, bounds[:, 0, 0], bounds[:, 1, 0]) <= 1.0


def test_conformalized_multi_quantile_network_on_real_data():
    X, y = load_diabetes(return_X_y=True)
    calibrated = []
    for seed in SEEDS:
        X_train, X_cal, X_test, y_train, y_cal, y_test = three_way_split(X, y, seed)
        model = network(seed, loss="quantile", quantile=[0.05, 0.5, 0.95])
        model.fit(X_train, y_train)
        bands_cal, bands_test = model.predict(X_cal), model.predict(X_test)
        margin = conformal_margin(bands_cal[:, 0], bands_cal[:, 2], y_cal)
        calibrated.append(covered(y_test, bands_test[:, 0] - margin,
                                  bands_test[:, 2] + margin))
    assert 0.86 <= np.mean(calibrated) <= 0.95


def test_cqr_corrects_a_band_that_is_far_too_narrow():
    # A 25-75 % band covers about half the rows; the conformal margin widens
    # it to 90 %, keeping its shape: wider where the noise is larger.
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, size=(4000, 2))
    y = np.sin(2 * X[:, 0]) + (0.1 + 0.5 * np.abs(X[:, 1])) * rng.normal(size=4000)
    train, cal, test = slice(0, 2000), slice(2000, 3000), slice(3000, None)
    model = MLPRegressor(loss="quantile", quantile=[0.25, 0.75], hidden_layer_sizes=(32,),
                         solver="lbfgs", max_iter=300, random_state=0).fit(X[train], y[train])
    band_cal, band_test = model.predict(X[cal]), model.predict(X[test])
    assert covered(y[test], band_test[:, 0], band_test[:, 1]) < 0.6
    margin = conformal_margin(band_cal[:, 0], band_cal[:, 1], y[cal])
    lower, upper = band_test[:, 0] - margin, band_test[:, 1] + margin
    assert covered(y[test], lower, upper) == pytest.approx(0.9, abs=0.03)
    width, noisy = upper - lower, np.abs(X[test, 1]) > 1.5
    assert width[noisy].mean() > 1.5 * width[np.abs(X[test, 1]) < 0.5].mean()
