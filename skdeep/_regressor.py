"""MLPRegressor: regression with squared error, Poisson, Huber or absolute loss."""

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
from ._engine import LOSSES, loss_for_output

_ATTRIBUTES = [
    "loss_", "best_loss_", "loss_curve_", "validation_scores_", "best_validation_score_",
    "validation_loss_curve_", "history_", "t_", "coefs_", "intercepts_", "n_features_in_",
    "is_categorical_", "categories_", "embeddings_", "feature_names_in_", "n_iter_",
    "n_layers_", "n_outputs_", "out_activation_",
]  # fmt: skip


@fill_docstring(_ATTRIBUTES, REGRESSOR_WORDS)
class MLPRegressor(RegressorMixin, BaseMultilayerPerceptron):
    """Multi-layer perceptron regressor on skdeep's NumPy engine.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`:
    same parameters, defaults, fitted attributes and behaviour. The network
    minimises half the squared error (or, with ``loss``, half the Poisson
    deviance, the Huber loss or the absolute error), with an L2 penalty, by
    L-BFGS or mini-batch stochastic gradient descent.

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
    With several outputs, the loss is the squared error summed over outputs
    (the quantity whose gradient both skdeep and sklearn follow); sklearn
    reports its mean over outputs instead, so ``loss_`` differs from
    sklearn's by the factor ``n_outputs_`` there. With one output they agree.

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
    """

    _y_numeric = True
    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "loss": _options.REGRESSION_LOSS_CONSTRAINT,
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
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
        categorical_features=None,
        embedding_dim=None,
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
        return y.reshape(len(y), -1)

    def _output_activation(self, target_attributes):
        return LOSSES[self.loss].output_activation

    def _engine_loss(self):
        return _options.engine_loss(self, self.loss)

    def _decode(self, fitted, logits):
        predictions = loss_for_output(fitted.out_activation_).inverse_link(logits)
        if predictions.shape[1] == 1:
            return predictions.ravel()
        return predictions

    def _decode_target(self, fitted, Y):
        return Y[:, 0] if Y.shape[1] == 1 else Y

    def _score_predictions(self, y_true, y_pred, sample_weight):
        return r2_score(y_true, y_pred, sample_weight=sample_weight)

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
