"""MLPRegressor: regression with squared error, Poisson, Huber, absolute or pinball loss."""

from numbers import Real

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import column_or_1d

from . import _options
from ._base import BaseMultilayerPerceptron
from ._compat import Interval, _fit_context, with_callbacks
from ._docstrings import REGRESSOR_WORDS, fill_docstring
from ._engine import inverse_link

_ATTRIBUTES = [
    "loss_", "best_loss_", "loss_curve_", "validation_scores_", "best_validation_score_",
    "validation_loss_curve_", "history_", "t_", "coefs_", "intercepts_", "n_features_in_",
    "is_categorical_", "categories_", "embeddings_", "feature_names_in_", "n_iter_",
    "n_layers_", "n_outputs_", "out_activation_",
]  # fmt: skip


def quantile_columns(estimator, Y, name):
    """Targets ``Y`` (2-D) repeated once per quantile level, for several levels.

    Each of the network's outputs is trained against the same ``y`` at its
    own level; one level (or another loss) leaves ``Y`` as it is.
    """
    levels = _options.quantile_levels(estimator)
    if levels is None or levels.size == 1:
        return Y
    if Y.shape[1] != 1:
        raise ValueError(
            f"{levels.size} quantile levels need a single target column, but {name} has "
            f"{Y.shape[1]} columns. Fit one model per target column, or learn one "
            "level (quantile=0.9, say) for all of them."
        )
    return np.repeat(Y, levels.size, axis=1)


#: Beyond this magnitude (2**500, about 3e150), sums of squared targets overflow.
_HUGE_TARGET = 2.0**500


def r2_of_predictions(y_true, y_pred, sample_weight=None):
    """R^2 of ``y_pred``; with one column per quantile level, the mean over them.

    Several levels predict several columns for one ``y``: each column is
    scored against ``y`` and the scores are averaged (sklearn's
    ``multioutput="uniform_average"``).
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_pred.ndim == 2 and y_true.ndim == 1 and y_pred.shape[1] > 1:
        y_true = np.repeat(y_true[:, np.newaxis], y_pred.shape[1], axis=1)
    magnitude = float(max(np.abs(y_true).max(initial=0), np.abs(y_pred).max(initial=0)))
    if _HUGE_TARGET < magnitude < np.inf:
        # Their squares would overflow; R^2 does not depend on the unit, and a
        # power of two changes no digit.
        shrink = 2.0 ** -np.ceil(np.log2(magnitude))
        y_true, y_pred = y_true * shrink, y_pred * shrink
    return r2_score(y_true, y_pred, sample_weight=sample_weight)


def _check_scorer_outputs(estimator):
    """Refuse, before training, a named scorer that cannot score several quantile levels.

    sklearn's regression scorers compare ``predict(X)`` with ``y`` column by
    column, and several levels predict one column per level for a 1-D ``y``;
    the scorer would fail after the first epoch.
    """
    scoring = estimator.scoring
    if not isinstance(scoring, str) or scoring == "loss" or estimator.loss != "quantile":
        return
    levels = _options.quantile_levels(estimator)
    if levels.size > 1:
        raise ValueError(
            f"scoring={scoring!r} compares predict(X) with y, but {levels.size} quantile "
            f"levels predict {levels.size} columns for the one column of y. Leave "
            "scoring=None (or 'loss') to select the epoch by the validation pinball loss, "
            "or pass a callable scorer(estimator, X, y) that scores one column per level."
        )


class QuantileRegressorMixin(RegressorMixin):
    """What a regressor with ``loss="quantile"`` scores: R^2, and its loss for early stopping."""

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 of the predictions.

        This is sklearn's regression score, also for ``loss='quantile'``
        (as in ``HistGradientBoostingRegressor``): it measures how close
        the predictions are to ``y``, not how good the quantiles are (use
        :func:`sklearn.metrics.mean_pinball_loss` for that). With several
        quantile levels, each level's predictions are scored against ``y``
        and the scores averaged.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True values for ``X``.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R^2 of ``self.predict(X)`` against ``y``.
        """
        return r2_of_predictions(y, self.predict(X), sample_weight)

    def _score_predictions(self, y_true, y_pred, sample_weight):
        return r2_of_predictions(y_true, y_pred, sample_weight)

    def _monitored_scoring(self):
        # R^2 rewards the mean, not a quantile: early stopping of a quantile
        # model watches its own (pinball) loss, as HistGradientBoosting's does.
        if self.scoring is None and self.loss == "quantile":
            return "loss"
        _check_scorer_outputs(self)
        return self.scoring


@fill_docstring(_ATTRIBUTES, REGRESSOR_WORDS)
class MLPRegressor(QuantileRegressorMixin, BaseMultilayerPerceptron):
    """Multi-layer perceptron regressor on skdeep's NumPy engine.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`:
    same parameters, defaults, fitted attributes and behaviour. The network
    minimises half the squared error (or, with ``loss``, half the Poisson
    deviance, the Huber loss, the absolute error or the pinball loss of one
    or several quantiles), with an L2 penalty, by L-BFGS or mini-batch
    stochastic gradient descent.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    MLPClassifier : Multi-layer perceptron classifier.
    sklearn.neural_network.MLPRegressor : The scikit-learn original.

    Notes
    -----
    With several outputs, every solver reports (and stops on) the squared
    error averaged over outputs while following the gradient of its sum,
    exactly as sklearn does, so ``n_iter_``, ``loss_curve_`` and the weights
    match sklearn's. With ``lbfgs_objective='exact'``, L-BFGS minimises the
    sum over outputs, whose value and gradient are consistent, and its
    ``loss_`` is ``n_outputs_`` times sklearn's.

    With ``loss="quantile"`` and several levels, ``predict`` returns one
    column per level, in the order of ``quantile``, and the columns never
    cross: the network predicts the lowest quantile and a positive
    (softplus) step to each next one. ``score`` stays R^2, sklearn's
    regression score. Early stopping then takes ``scoring=None`` (the
    validation pinball loss), ``'loss'`` or a callable: a named sklearn
    scorer compares one column of ``y`` with one column of predictions.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.model_selection import train_test_split
    >>> from skdeep import MLPRegressor
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=1.0,
    ...                        random_state=1)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=1)
    >>> reg = MLPRegressor(solver="lbfgs", random_state=1).fit(X_train, y_train)
    >>> reg.predict(X_test[:2]).shape
    (2,)
    >>> reg.score(X_test, y_test) > 0.9
    True

    Three quantiles from one network: a 90% interval and the median.

    >>> q = MLPRegressor(loss="quantile", quantile=[0.05, 0.5, 0.95],
    ...                  solver="lbfgs", random_state=1).fit(X_train, y_train)
    >>> bands = q.predict(X_test)
    >>> bands.shape
    (50, 3)
    >>> bool((bands[:, 0] < bands[:, 1]).all() and (bands[:, 1] < bands[:, 2]).all())
    True
    """

    _y_numeric = True
    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "loss": _options.REGRESSION_LOSS_CONSTRAINT,
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
        "quantile": _options.QUANTILE_CONSTRAINT,
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        init="glorot",
        weight_decay=0.01,
        warmup=0,
        lr_step_size=10,
        lr_gamma=0.5,
        max_grad_norm=None,
        scoring=None,
        huber_delta=1.0,
        quantile=None,
        categorical_features=None,
        embedding_dim=None,
        lbfgs_objective="sklearn",
    ):
        self._set_params_from_init(locals())

    def _learn_target(self, y, classes):
        return self._encode_target(self, y, "y"), {}

    def _encode_target(self, fitted, y, name):
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                f"Some value(s) of {name} are negative which is not allowed for "
                "loss='poisson'."
            )
        return quantile_columns(self, y.reshape(len(y), -1), name)

    def _output_activation(self, target_attributes):
        return self._engine_loss().output_activation

    def _engine_loss(self):
        return _options.engine_loss(self, self.loss)

    def _decode(self, fitted, logits):
        predictions = inverse_link(fitted.out_activation_, logits)
        if predictions.shape[1] == 1:
            return predictions.ravel()
        return predictions

    def _decode_target(self, fitted, Y):
        # Several quantile levels train on copies of one column.
        if Y.shape[1] == 1 or fitted.out_activation_ == "cumulative_softplus":
            return Y[:, 0]
        return Y

    def _split_stratify(self, Y):
        return None

    @available_if(lambda est: est._check_solver())
    @with_callbacks
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)


    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
