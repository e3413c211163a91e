"""Swapping the import changes nothing with ``solver="lbfgs"`` either.

With the default ``lbfgs_objective="sklearn"`` skdeep computes L-BFGS's loss
and gradient with scikit-learn's operations in scikit-learn's order and
hands SciPy the same arguments, so at one BLAS thread the fits are bit for
bit scikit-learn's: ``coefs_``, ``intercepts_``, ``loss_``, ``n_iter_``, and
``loss_curve_`` equal to the loss scikit-learn's L-BFGS reaches at each of
its iterations (scikit-learn keeps no curve for L-BFGS; it is recorded here
through SciPy's callback, which changes nothing in the optimisation).
"""

import warnings

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from sklearn.datasets import (
    load_diabetes,
    make_circles,
    make_classification,
    make_moons,
    make_multilabel_classification,
)
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skdeep import MLPClassifier, MLPRegressor
from skdeep._options import lbfgs_config


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Bit-identity holds for a fixed thread count; one makes it certain."""
    with threadpool_limits(1):
        yield


def _fit_recording_loss_curve(estimator, X, y, **fit_params):
    """Fit a scikit-learn estimator (or pipeline) and return the loss after each
    L-BFGS iteration, read through a SciPy callback added to its minimize call."""
    curve = []
    real_minimize = scipy.optimize.minimize

    def minimize(*args, **kwargs):
        assert "callback" not in kwargs
        def record(intermediate_result):  # SciPy passes the result by this name
            curve.append(float(intermediate_result.fun))

        return real_minimize(*args, callback=record, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scipy.optimize, "minimize", minimize)
        estimator.fit(X, y, **fit_params)
    return curve


def _assert_same_fit(ours, theirs, their_curve):
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.loss_ == theirs.loss_
    assert ours.loss_curve_ == their_curve
    assert ours.out_activation_ == theirs.out_activation_
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_array_equal(a, b)


def _fit_both(ours, theirs, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning, equally in both
        their_curve = _fit_recording_loss_curve(theirs, X, y, **fit_params)
        ours.fit(X, y, **fit_params)
    return their_curve


# --------------------------------------------------------------------------
# sklearn's gallery example plot_mlp_alpha, its data sets built as it builds them
# --------------------------------------------------------------------------


def _plot_mlp_alpha_datasets():
    X, y = make_classification(
        n_features=2, n_redundant=0, n_informative=2, random_state=0, n_clusters_per_class=1
    )
    rng = np.random.RandomState(2)
    X += 2 * rng.uniform(size=X.shape)
    return {
        "moons": make_moons(noise=0.3, random_state=0),
        "circles": make_circles(noise=0.2, factor=0.5, random_state=1),
        "linearly_separable": (X, y),
    }


_DATASETS = _plot_mlp_alpha_datasets()


def _example_pipeline(Estimator, alpha):
    """One of the example's classifiers."""
    return make_pipeline(
        StandardScaler(),
        Estimator(solver="lbfgs", alpha=alpha, random_state=1, max_iter=2000,
                  early_stopping=True, hidden_layer_sizes=[10, 10]),
    )


def _example_split(name):
    X, y = _DATASETS[name]
    return train_test_split(X, y, test_size=0.4, random_state=42)


@pytest.mark.parametrize("alpha", [1e-5, 0.1, 1.0, 10.0])
@pytest.mark.parametrize("name", list(_DATASETS))
def test_plot_mlp_alpha_fits_are_sklearns_bit_for_bit(name, alpha):
    X_train, X_test, y_train, _ = _example_split(name)
    ours, theirs = _example_pipeline(MLPClassifier, alpha), _example_pipeline(SkMLPClassifier, alpha)
    their_curve = _fit_both(ours, theirs, X_train, y_train)
    _assert_same_fit(ours[-1], theirs[-1], their_curve)
    np.testing.assert_array_equal(ours.predict(X_test), theirs.predict(X_test))


def test_plot_mlp_alpha_shows_sklearns_fifteen_scores_and_boundaries():
    """The example's computations, unchanged but for the import: the 15 scores
    it writes on its panels, and the probabilities it draws, are sklearn's."""
    h = 0.02
    printed = {}
    for Estimator in (MLPClassifier, SkMLPClassifier):
        scores, surfaces = [], []
        for name in _DATASETS:
            X, _ = _DATASETS[name]
            X_train, X_test, y_train, y_test = _example_split(name)
            x_min, x_max = X[:, 0].min() - 0.5, X[:, 0].max() + 0.5
            y_min, y_max = X[:, 1].min() - 0.5, X[:, 1].max() + 0.5
            xx, yy = np.meshgrid(np.arange(x_min, x_max, h), np.arange(y_min, y_max, h))
            for alpha in np.logspace(-1, 1, 5):
                clf = _example_pipeline(Estimator, alpha)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    clf.fit(X_train, y_train)
                scores.append(f"{clf.score(X_test, y_test):.3f}".lstrip("0"))
                surfaces.append(clf.predict_proba(np.column_stack([xx.ravel(), yy.ravel()]))[:, 1])
        printed[Estimator] = scores, surfaces
    ours, theirs = printed[MLPClassifier], printed[SkMLPClassifier]
    assert len(ours[0]) == 15
    assert ours[0] == theirs[0]
    for a, b in zip(ours[1], theirs[1]):
        # skdeep keeps a probability below 1 where float rounding reaches it
        # (the differences page), 1.1e-16 at most; the logits are the same.
        np.testing.assert_allclose(a, b, rtol=0, atol=2e-16)


# --------------------------------------------------------------------------
# Every output kind scikit-learn's MLPs support
# --------------------------------------------------------------------------


def _regression():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


def _case(kind):
    """(skdeep estimator, sklearn estimator, X, y) of one output kind."""
    params = dict(solver="lbfgs", hidden_layer_sizes=(10,), max_iter=2000, random_state=0)
    if kind == "multilabel":
        X, y = make_multilabel_classification(n_samples=150, n_features=6, n_classes=3,
                                              random_state=0)
        return MLPClassifier(**params), SkMLPClassifier(**params), X, y
    if kind == "multiclass":
        X, y = make_classification(n_samples=150, n_features=6, n_informative=4,
                                   n_classes=4, random_state=0)
        return MLPClassifier(**params), SkMLPClassifier(**params), X, y
    X, y = _regression()
    if kind == "two_targets":
        y = np.column_stack([y, np.abs(y)])
    if kind == "poisson":
        y = np.random.RandomState(0).poisson(np.exp(0.3 * X[:, 2]))
        params["loss"] = "poisson"
    return MLPRegressor(**params), SkMLPRegressor(**params), X, y


KINDS = ["multilabel", "multiclass", "regression", "two_targets", "poisson"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_output_kind_is_sklearns_bit_for_bit(kind):
    ours, theirs, X, y = _case(kind)
    their_curve = _fit_both(ours, theirs, X, y)
    assert ours.n_iter_ > 50  # long enough for rounding to have shown
    _assert_same_fit(ours, theirs, their_curve)


@pytest.mark.parametrize("kind", ["multiclass", "two_targets"])
def test_sample_weights_and_sparse_input_are_sklearns_bit_for_bit(kind):
    ours, theirs, X, y = _case(kind)
    weights = np.random.RandomState(1).uniform(0.2, 3.0, size=len(y))
    X = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    their_curve = _fit_both(ours, theirs, X, y, sample_weight=weights)
    _assert_same_fit(ours, theirs, their_curve)


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh"])
def test_sklearns_other_activations_are_sklearns_bit_for_bit(activation):
    ours, theirs, X, y = _case("multiclass")
    ours.set_params(activation=activation, hidden_layer_sizes=(6, 5), max_iter=300)
    theirs.set_params(activation=activation, hidden_layer_sizes=(6, 5), max_iter=300)
    their_curve = _fit_both(ours, theirs, X, y)
    _assert_same_fit(ours, theirs, their_curve)


def test_float32_fits_sklearns_path_and_keeps_float32():
    """sklearn starts SciPy from a float32 vector, so SciPy evaluates the
    objective in float32 (its L-BFGS state is float64); skdeep does the same
    and keeps float32 weights: sklearn's float64 weights rounded."""
    ours, theirs, X, y = _case("multiclass")
    X = X.astype(np.float32)
    _fit_both(ours, theirs, X, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.loss_ == theirs.loss_
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b.astype(np.float32))


@pytest.mark.parametrize("verbose, iprint", [(False, -1), (True, 1), (2, 1), (0, -1)])
def test_verbose_sets_scipys_iprint_as_sklearn_does(verbose, iprint):
    """SciPy < 1.15 prints its own report with iprint=1 (sklearn's verbose)."""
    assert lbfgs_config(MLPClassifier(verbose=verbose)).iprint == iprint


def test_warm_start_continues_sklearns_path():
    ours, theirs, X, y = _case("regression")
    for estimator in (ours, theirs):
        estimator.set_params(max_iter=30, warm_start=True)
    _fit_both(ours, theirs, X, y)
    their_curve = _fit_both(ours, theirs, X, y)
    _assert_same_fit(ours, theirs, their_curve)


# --------------------------------------------------------------------------
# lbfgs_objective="exact": the engine's objective, on request
# --------------------------------------------------------------------------


def _exact_log_loss(clf, X, y):
    """The binary log-loss from the logits, without clipping."""
    logits = clf.predict_logits(X)
    return float(np.mean(np.logaddexp(0.0, logits) - (y == 1) * logits))


def test_exact_objective_keeps_descending_where_probabilities_saturate():
    """Unscaled inputs saturate the sigmoid: sklearn's clipped log-loss is flat
    there while its gradient is not, and its line search gives up early."""
    X, y = make_classification(n_samples=300, n_features=5, flip_y=0.0, random_state=0)
    X = X * 300
    params = dict(solver="lbfgs", hidden_layer_sizes=(20,), alpha=0.0, max_iter=3000,
                  random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        default = MLPClassifier(**params).fit(X, y)
        exact = MLPClassifier(lbfgs_objective="exact", **params).fit(X, y)
        theirs = SkMLPClassifier(**params).fit(X, y)
    assert default.n_iter_ == theirs.n_iter_ < 50  # measured: 13
    assert default.loss_ < _exact_log_loss(default, X, y)  # a clipped point
    assert exact.loss_ == pytest.approx(_exact_log_loss(exact, X, y), rel=1e-9)
    # measured: 0.089 after 176 iterations, against 0.334 after 13
    assert _exact_log_loss(exact, X, y) < 0.5 * _exact_log_loss(default, X, y)


def test_exact_objective_of_several_targets_is_their_sum():
    """sklearn hands L-BFGS the loss averaged over the targets with the gradient
    of their sum; 'exact' gives it the loss and the gradient of the sum."""
    ours, theirs, X, y = _case("two_targets")
    ours.set_params(max_iter=100, alpha=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        default = ours.fit(X, y)
        exact = MLPRegressor(**{**ours.get_params(), "lbfgs_objective": "exact"}).fit(X, y)
    for fitted in (default, exact):
        half_squared_errors = 0.5 * ((fitted.predict(X) - y) ** 2).mean(axis=0)
        expected = half_squared_errors.mean() if fitted is default else half_squared_errors.sum()
        assert fitted.loss_ == pytest.approx(expected, rel=1e-9)
