"""MLPRegressor: squared-error and Poisson regression."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import column_or_1d

from numbers import Real

from . import _options
from ._base import BaseMultilayerPerceptron
from ._compat import Interval, _fit_context, with_callbacks
from ._engine import LOSSES, loss_for_output


class MLPRegressor(RegressorMixin, BaseMultilayerPerceptron):
    """Multi-layer perceptron regressor on skdeep's NumPy engine.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`:
    same parameters, defaults, fitted attributes and behaviour. The network
    minimises half the squared error (or half the Poisson deviance), with an
    L2 penalty, by L-BFGS or mini-batch stochastic gradient descent.

    Parameters
    ----------
    loss : {'squared_error', 'poisson', 'huber', 'absolute_error'}, \
            default='squared_error'
        ``'squared_error'`` minimises ``(y - f(x))**2 / 2`` with an identity
        output; ``'poisson'`` minimises half the Poisson deviance with an
        exponential output (predictions are positive; ``y`` must be
        non-negative). skdeep extensions: ``'huber'`` (quadratic up to
        ``huber_delta``, linear beyond: robust to outliers) and
        ``'absolute_error'`` (the conditional median).
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.
        ``()`` gives a network with no hidden layer: a linear model.
    activation : str or sequence of str, default='relu'
        One of ``'identity'``, ``'logistic'``, ``'tanh'``, ``'relu'`` (as in
        sklearn) or, as skdeep extensions, ``'leaky_relu'``, ``'elu'``,
        ``'selu'``, ``'softplus'``, ``'gelu'``; or a sequence with one name
        per hidden layer.
    solver : {'lbfgs', 'sgd', 'adam', 'adamw', 'rmsprop'}, default='adam'
        ``'adamw'`` (Adam with decoupled ``weight_decay``) and ``'rmsprop'``
        (decay rate ``beta_2``) are skdeep extensions.
        Weight optimisation: L-BFGS, SGD with momentum, or Adam.
    alpha : float, default=0.0001
        Strength of the L2 penalty, divided by the (weighted) batch size.
    batch_size : int or "auto", default="auto"
        Mini-batch size; "auto" is ``min(200, n_samples)``.
    learning_rate : {'constant', 'invscaling', 'adaptive', 'cosine', 'step'}, \
            default='constant'
        Learning-rate schedule. As in sklearn, ``'adam'`` ignores
        ``'invscaling'`` and ``'adaptive'``; every other stochastic solver
        follows every schedule. ``'cosine'`` anneals to 0 over ``max_iter``
        epochs and ``'step'`` multiplies by ``lr_gamma`` every
        ``lr_step_size`` epochs, both after ``warmup`` epochs (skdeep
        extensions).
    learning_rate_init : float, default=0.001
        Initial step size of the stochastic solvers.
    power_t : float, default=0.5
        Exponent of the ``'invscaling'`` schedule.
    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (L-BFGS).
    shuffle : bool, default=True
        Whether to shuffle the samples at every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling and the early-stopping split.
    tol : float, default=1e-4
        Improvement below which an epoch counts as no progress.
    verbose : bool, default=False
        Whether to print one progress line per epoch.
    warm_start : bool, default=False
        Reuse the previous solution as initialisation when ``fit`` is called.
    momentum : float, default=0.9
        Momentum of the ``'sgd'`` solver.
    nesterovs_momentum : bool, default=True
        Whether the ``'sgd'`` solver uses Nesterov's momentum.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when its R^2
        stops improving; the best weights are kept.
    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping.
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's moment decay rates.
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.
    n_iter_no_change : int, default=10
        Number of epochs without ``tol`` improvement before stopping.
    max_fun : int, default=15000
        Maximum number of loss evaluations of the L-BFGS solver.
    dropout : float or sequence of float, default=0.0
        Dropout rate of the hidden layers, one value for all or one per
        hidden layer (skdeep extension). Inverted dropout: during training
        each hidden unit is zeroed with this probability and the others are
        scaled by ``1 / (1 - rate)``; prediction is unaffected. Reproducible
        under ``random_state``. Ignored by L-BFGS.
    init : {'glorot', 'he', 'lecun'}, default='glorot'
        Weight initialisation (skdeep extension): sklearn's uniform Glorot
        rule, He (``sqrt(6 / fan_in)``, for the ReLU family) or LeCun
        (``sqrt(3 / fan_in)``, for SELU).
    weight_decay : float, default=0.01
        Decoupled weight decay of the ``'adamw'`` solver (skdeep extension).
    warmup : int, default=0
        Epochs of linear learning-rate warm-up for the ``'cosine'`` and
        ``'step'`` schedules (skdeep extension).
    lr_step_size : int, default=10
        Epochs between decays of the ``'step'`` schedule.
    lr_gamma : float, default=0.5
        Factor applied at each decay of the ``'step'`` schedule.
    max_grad_norm : float or None, default=None
        Clip the gradient's global Euclidean norm to this value before each
        stochastic update (skdeep extension); None disables clipping.
    scoring : str, callable or None, default=None
        What early stopping monitors on the validation data (skdeep
        extension, as in ``HistGradientBoosting*``): None is sklearn's
        choice (accuracy for the classifier, R^2 for the regressor),
        ``'loss'`` the validation loss, and any other value a scorer name or
        callable accepted by :func:`sklearn.metrics.check_scoring`.
    huber_delta : float, default=1.0
        Residual size at which ``loss='huber'`` turns from quadratic to
        linear, in the units of ``y``.
    categorical_features : {"from_dtype"}, array-like of str, int or bool, \
            or None, default=None
        Columns to learn an embedding for (skdeep extension; the convention
        of sklearn's ``HistGradientBoosting*``). None: every column is
        numeric, as in sklearn. ``"from_dtype"``: the pandas ``category``,
        ``object`` and ``string`` columns of a DataFrame (an array or sparse
        matrix has none). Or the categorical columns by name, by index, or as
        a boolean mask. Each categorical column's categories (the declared
        categories of a ``category`` column, else the distinct non-missing
        values) are fixed at the first ``fit`` or ``partial_fit``; each
        becomes a learned vector, and categories unseen then, ``NaN``,
        ``None`` and ``pd.NA`` share a reserved "unknown" vector. At most
        1,000,000 categories per column. See the user guide's
        "Categorical columns" page.
    embedding_dim : int, callable or None, default=None
        Length of each category's vector: one int for every categorical
        column, a callable mapping a column's number of categories to its
        length, or None for ``min(50, round(1.6 * n_categories ** 0.56))``
        (2 categories: 2; 10: 6; 100: 21; 1,000 and more: 50).

    Attributes
    ----------
    loss_ : float
        Loss at the end of training (mean loss plus penalty).
    best_loss_ : float or None
        Lowest training loss of the stochastic solvers; None with early
        stopping.
    loss_curve_ : list of float
        Training loss after each epoch (each iteration for L-BFGS).
    validation_scores_ : list of float or None
        R^2 on the held-out set after each epoch, with early stopping.
    best_validation_score_ : float or None
        Best validation R^2, with early stopping.
    validation_loss_curve_ : list of float or None
        Loss on the validation data after each epoch, when there is
        validation data (skdeep extension).
    history_ : list of dict
        One record per epoch of the stochastic solvers (skdeep extension):
        ``epoch``, ``loss``, ``learning_rate``, ``time`` (seconds) and, with
        validation data, ``validation_score`` and ``validation_loss``.
        ``loss_curve_`` and ``validation_scores_`` are its columns.
    t_ : int
        Number of training samples seen by the stochastic solvers.
    coefs_ : list of ndarray
        The ith element is the weight matrix between layer i and i + 1.
        Assigning new matrices changes the model's predictions. With
        categorical columns, the rows of ``coefs_[0]`` are the numeric
        columns in order, then each embedding's components.
    intercepts_ : list of ndarray
        Bias vectors, layer by layer; assignable.
    n_features_in_ : int
        Number of features seen during fit.
    is_categorical_ : ndarray of bool of shape (n_features_in_,) or None
        Which input columns were embedded; None when none were.
    categories_ : list of ndarray
        Known categories of each categorical column, in column order. Only
        with categorical columns.
    embeddings_ : list of ndarray of shape (n_categories + 1, dim)
        The learned embedding table of each categorical column (row ``k``
        for ``categories_[j][k - 1]``, row 0 for unknown and missing
        values), trained with the weights and penalised by ``alpha`` (and
        ``weight_decay``) like them. Only with categorical columns.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.
    n_iter_ : int
        Number of epochs (iterations for L-BFGS) run by the last call.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        ``'identity'`` (squared error) or ``'exp'`` (Poisson).

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
        self.huber_delta = huber_delta
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss=loss,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            dropout=dropout,
            init=init,
            weight_decay=weight_decay,
            warmup=warmup,
            lr_step_size=lr_step_size,
            lr_gamma=lr_gamma,
            max_grad_norm=max_grad_norm,
            scoring=scoring,
            categorical_features=categorical_features,
            embedding_dim=embedding_dim,
        )

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

    def predict(self, X):
        """Predict using the multi-layer perceptron model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        model = self._snapshot()
        return self._decode(model, model._logits(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
