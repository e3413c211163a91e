"""The estimator layer shared by MLPClassifier and MLPRegressor.

Parameters are declared once in ``_parameter_constraints`` and validated by
``_fit_context`` at fit time; ``__init__`` only stores them. Inputs are
validated here, once per call, then handed to the training loops as clean
arrays of one dtype. No math happens in this module: the engine computes.
"""

import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import check_scoring
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_X_y, validate_data

from ._callbacks import callback_hooks
from ._categorical import (
    as_dense_2d,
    category_lookups,
    column,
    embedding_dims,
    encode,
    feature_name,
    learn_categories,
    resolve_categorical_mask,
)
from ._compat import CallbackSupportMixin, Interval, Options, StrOptions, _fit_context, with_callbacks
from ._engine import (
    HIDDEN_ACTIVATIONS,
    EmbeddingLayout,
    Network,
    forward_logits,
    make_optimizer,
    make_schedule,
)
from ._training import Progress, StochasticConfig, fit_lbfgs, fit_stochastic
from ._version import __version__

_STOCHASTIC_SOLVERS = ("sgd", "adam", "adamw", "rmsprop")
_FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def _check_sample_weight(sample_weight, n_samples, dtype):
    """Validate ``sample_weight``: a finite, non-negative 1-D array or None."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, Real):
        if not np.isfinite(sample_weight) or sample_weight <= 0:
            raise ValueError(
                f"A scalar sample_weight must be finite and positive, got {sample_weight}."
            )
        return np.full(n_samples, sample_weight, dtype=dtype)
    sample_weight = check_array(
        sample_weight, ensure_2d=False, dtype=dtype, input_name="sample_weight"
    )
    if sample_weight.ndim != 1:
        raise ValueError(
            f"sample_weight must be 1-D, got an array of shape {sample_weight.shape}."
        )
    if sample_weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has {sample_weight.shape[0]} entries but X has "
            f"{n_samples} samples; pass one weight per sample."
        )
    if np.any(sample_weight < 0):
        raise ValueError("sample_weight must be non-negative; found negative weights.")
    if not sample_weight.sum() > 0:
        raise ValueError(
            "Sample weights must contain at least one positive value; all are zero."
        )
    # Copy so that training never touches, nor aliases, the caller's array.
    return np.array(sample_weight, dtype=dtype, copy=True)


def _resolve_batch_size(batch_size, n_samples):
    """sklearn's rule: "auto" is min(200, n); a larger value is clipped."""
    if batch_size == "auto":
        return min(200, n_samples)
    if batch_size > n_samples:
        warnings.warn(
            "Got `batch_size` less than 1 or larger than sample size. It is going "
            "to be clipped"
        )
    return int(np.clip(batch_size, 1, n_samples))


class BaseMultilayerPerceptron(CallbackSupportMixin, BaseEstimator, metaclass=ABCMeta):
    """Shared machinery of skdeep's multi-layer perceptrons.

    Warning: this class should not be used directly; use
    :class:`~skdeep.MLPClassifier` or :class:`~skdeep.MLPRegressor`.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS)), list, tuple],
        "solver": [StrOptions({"lbfgs", "sgd", "adam", "adamw", "rmsprop"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [
            StrOptions({"constant", "invscaling", "adaptive", "cosine", "step"})
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), list, tuple],
        "init": [StrOptions({"glorot", "he", "lecun"})],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "warmup": [Interval(Integral, 0, None, closed="left")],
        "lr_step_size": [Interval(Integral, 1, None, closed="left")],
        "lr_gamma": [Interval(Real, 0, 1, closed="right")],
        "max_grad_norm": [None, Interval(Real, 0, None, closed="neither")],
        "scoring": [None, str, callable],
        "categorical_features": [None, StrOptions({"from_dtype"}), "array-like"],
        "embedding_dim": [None, Interval(Integral, 1, None, closed="left"), callable],
    }

    @abstractmethod
    def __init__(
        self,
        hidden_layer_sizes,
        activation,
        solver,
        alpha,
        batch_size,
        learning_rate,
        learning_rate_init,
        power_t,
        max_iter,
        loss,
        shuffle,
        random_state,
        tol,
        verbose,
        warm_start,
        momentum,
        nesterovs_momentum,
        early_stopping,
        validation_fraction,
        beta_1,
        beta_2,
        epsilon,
        n_iter_no_change,
        max_fun,
        dropout=0.0,
        init="glorot",
        weight_decay=0.01,
        warmup=0,
        lr_step_size=10,
        lr_gamma=0.5,
        max_grad_norm=None,
        scoring=None,
        categorical_features=None,
        embedding_dim=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.loss = loss
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.init = init
        self.weight_decay = weight_decay
        self.warmup = warmup
        self.lr_step_size = lr_step_size
        self.lr_gamma = lr_gamma
        self.max_grad_norm = max_grad_norm
        self.scoring = scoring
        self.categorical_features = categorical_features
        self.embedding_dim = embedding_dim

    # ------------------------------------------------------------------
    # Hooks implemented by the classifier and the regressor
    # ------------------------------------------------------------------
    @abstractmethod
    def _validate_input(self, X, y, incremental, reset):
        """Validate X and y; return X and the encoded 2-D float target."""

    @abstractmethod
    def _output_activation(self):
        """Name of the output activation for the current task."""

    @abstractmethod
    def _decode(self, logits):
        """Turn output-layer logits into what ``predict`` returns."""

    @abstractmethod
    def _score_predictions(self, y_true, y_pred, sample_weight):
        """The metric of ``score`` (accuracy or R^2) on decoded predictions."""

    @abstractmethod
    def _split_stratify(self, y):
        """Labels to stratify the early-stopping split by, or None."""

    @abstractmethod
    def _encode_validation_target(self, y):
        """Encode explicit validation targets like the training targets."""

    @abstractmethod
    def _validation_target(self, Y):
        """Encoded validation targets back to what ``_score_predictions`` expects."""

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    @with_callbacks
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels in classification, real numbers
            in regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights. Each sample's contribution to the loss is scaled
            by its weight; the loss is the weighted mean.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), \
                default=None
            Explicit validation data (skdeep extension, the convention of
            sklearn's ``HistGradientBoosting*``). The stochastic solvers score
            it after every epoch (``validation_scores_``,
            ``validation_loss_curve_``, ``history_``); with
            ``early_stopping=True`` it replaces the internal
            ``validation_fraction`` split. In a ``Pipeline``, request it with
            ``set_fit_request(X_val=True, y_val=True)`` and let the pipeline
            transform it with ``Pipeline(..., transform_input=["X_val"])``.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Targets of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Sample weights of ``X_val``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val must be passed together.")
        validation_data = None
        if X_val is not None:
            validation_data = (X_val, y_val, sample_weight_val)
        return self._fit(X, y, sample_weight, incremental=False, validation_data=validation_data)

    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if any(not isinstance(s, Integral) or s <= 0 for s in sizes):
            raise ValueError(
                f"hidden_layer_sizes must contain positive integers, got {sizes}."
            )
        return [int(s) for s in sizes]

    def _fit(self, X, y, sample_weight, incremental, validation_data=None):
        """Train; a call that raises (or is interrupted) changes nothing.

        Every fitted attribute is replaced rather than mutated during
        training, so a shallow copy of ``__dict__`` is a complete snapshot.
        """
        snapshot = dict(self.__dict__)
        try:
            self._raw_data = (X, y, sample_weight)  # for sklearn callbacks
            return self._fit_unsafe(X, y, sample_weight, incremental, validation_data)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(snapshot)
            raise
        finally:
            self.__dict__.pop("_raw_data", None)
            self.__dict__.pop("_inputs_encoded", None)

    def _fit_unsafe(self, X, y, sample_weight, incremental, validation_data):
        hidden_layer_sizes = self._hidden_layer_sizes()
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        dtype = X.dtype if first_pass else self.coefs_[0].dtype
        X = self._as_training_array(X, dtype)
        Y = np.ascontiguousarray(Y, dtype=self._target_dtype(dtype))
        sample_weight = _check_sample_weight(sample_weight, X.shape[0], dtype)
        sample_weight = self._effective_sample_weight(Y, sample_weight, dtype)

        layout = self._embedding_layout()
        n_inputs = X.shape[1] if layout is None else layout.n_inputs
        layer_units = [n_inputs, *hidden_layer_sizes, Y.shape[1]]
        random_state = check_random_state(self.random_state)
        network = self._network(layer_units, dtype, first_pass, random_state, layout)
        if first_pass:
            network.zero_unseen_embeddings(X)
        if self.solver == "lbfgs":
            self._fit_lbfgs(network, X, Y, sample_weight)
        else:
            self._fit_stochastic(
                network, X, Y, sample_weight, random_state, first_pass, incremental,
                validation_data,
            )
        return self

    # ------------------------------------------------------------------
    # Input validation, with categorical columns
    # ------------------------------------------------------------------
    def _validate_data_and_target(self, X, y, reset, y_numeric=False):
        """``validate_data`` for X and y; categorical columns become codes.

        On a first fit (``reset=True``) this also decides which columns are
        categorical (``is_categorical_``) and learns their ``categories_``;
        later calls encode with what was learned.
        """
        check_params = dict(
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=y_numeric,
            dtype=(np.float64, np.float32),
        )
        mask, X = self._categorical_mask(X, reset)
        if mask is None:
            return self._validate_numeric(X, y, reset, check_params)
        if reset:
            self.categories_ = self._learn_categories(X, mask)
            self._category_lookups = category_lookups(self.categories_)
        X = encode(X, mask, self._lookups(), type(self).__name__)
        return check_X_y(X, y, estimator=self, **check_params)

    def _validate_numeric(self, X, y, reset, check_params):
        """sklearn's validation, with a hint when X has categorical columns."""
        try:
            return validate_data(self, X, y, reset=reset, **check_params)
        except ValueError as exc:
            dtypes = getattr(X, "dtypes", None)
            if dtypes is None or "convert" not in str(exc):
                raise
            non_numeric = [
                str(name)
                for name, dtype in dtypes.items()
                if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype)
            ]
            if not non_numeric:
                raise
            raise ValueError(
                f"{exc} X has categorical or string columns {non_numeric}: pass "
                "categorical_features='from_dtype' to learn an embedding for each, "
                "or encode them before this estimator."
            ) from exc

    def _categorical_mask(self, X, reset):
        """The categorical columns' mask (None if none) and X, ready to encode.

        With categorical columns, X comes back as a DataFrame or a 2-D array
        whose feature names and count have been checked (and, on a first
        fit, recorded); otherwise X is returned untouched, for the numeric
        path to validate as sklearn does.
        """
        if reset:
            # Tables of an earlier fit never carry over to a fresh one.
            for name in ("embeddings_", "categories_", "_category_lookups"):
                self.__dict__.pop(name, None)
            self.is_categorical_ = None
            if not self._may_have_categorical_columns(X):
                return None, X
            X = as_dense_2d(X)
            if X.shape[1] == 0:
                return None, X  # the numeric path reports empty input as sklearn does
            validate_data(self, X, skip_check_array=True, reset=True)
            feature_names = getattr(self, "feature_names_in_", None)
            self.is_categorical_ = resolve_categorical_mask(
                self.categorical_features, X, feature_names
            )
        elif getattr(self, "is_categorical_", None) is not None:
            X = as_dense_2d(X)
            validate_data(self, X, skip_check_array=True, reset=False)
        return getattr(self, "is_categorical_", None), X

    def _may_have_categorical_columns(self, X):
        """Whether ``categorical_features`` can select any column of ``X``."""
        spec = self.categorical_features
        if spec is None:
            return False
        if isinstance(spec, str):  # "from_dtype" reads a DataFrame's dtypes
            return hasattr(X, "dtypes") and hasattr(X, "iloc")
        return True

    def _lookups(self):
        """Lookups of ``categories_``: built at fit and on unpickling, not
        stored by ``predict`` (which must leave the estimator unchanged)."""
        lookups = self.__dict__.get("_category_lookups")
        if lookups is None or len(lookups) != len(self.categories_):
            return category_lookups(self.categories_)
        return lookups

    def _learn_categories(self, X, mask):
        feature_names = getattr(self, "feature_names_in_", None)
        X = self._rows_with_weight(X)
        return [
            learn_categories(column(X, j), feature_name(feature_names, j))
            for j in np.flatnonzero(mask)
        ]

    def _rows_with_weight(self, X):
        """The rows of X whose sample weight is not zero.

        A row of weight 0 must not change the model, so its categories are
        not learned either: fitting with zero weights equals fitting without
        those rows. Weights are validated (with their errors) later.
        """
        sample_weight = getattr(self, "_raw_data", (None, None, None))[2]
        if sample_weight is None:
            return X
        try:
            keep = np.asarray(sample_weight, dtype=float) != 0
        except (TypeError, ValueError):
            return X
        if keep.shape != (X.shape[0],) or keep.all():
            return X
        return X.iloc[keep] if hasattr(X, "iloc") else X[keep]

    def _embedding_layout(self):
        """The engine's view of the categorical columns (None without any)."""
        mask = getattr(self, "is_categorical_", None)
        if mask is None:
            return None
        tables = getattr(self, "embeddings_", None)
        if tables is not None:
            n_levels = [table.shape[0] for table in tables]
            dims = [table.shape[1] for table in tables]
        else:
            n_categories = [len(categories) for categories in self.categories_]
            n_levels = [n + 1 for n in n_categories]
            dims = embedding_dims(self.embedding_dim, n_categories)
        return EmbeddingLayout(mask.size, np.flatnonzero(mask), n_levels, dims)

    @staticmethod
    def _as_training_array(X, dtype):
        """Contiguous dense or CSR data in the compute dtype (copied if needed)."""
        if sp.issparse(X):
            return sp.csr_matrix(X, dtype=dtype)
        return np.ascontiguousarray(X, dtype=dtype)

    def _per_layer(self, name, value, n_hidden, valid):
        """Expand a scalar setting to one entry per hidden layer, and check it."""
        if isinstance(value, (str, Real)):
            values = [value] * n_hidden
        else:
            values = list(value)
        if len(values) != n_hidden:
            raise ValueError(
                f"{name} has {len(values)} entries but there are {n_hidden} hidden "
                f"layers; pass one value, or one per hidden layer."
            )
        for entry in values:
            if not valid(entry):
                raise ValueError(f"Invalid {name} entry {entry!r}.")
        return values

    def _hidden_settings(self, n_hidden):
        activations = self._per_layer(
            "activation", self.activation, n_hidden, lambda a: a in HIDDEN_ACTIVATIONS
        )
        dropout = self._per_layer(
            "dropout",
            self.dropout,
            n_hidden,
            lambda r: isinstance(r, Real) and 0 <= r < 1,
        )
        return activations, dropout

    def _network(self, layer_units, dtype, first_pass, random_state, layout=None):
        """A fresh network, or one loaded with the current weights."""
        n_hidden = len(layer_units) - 2
        activations, dropout = self._hidden_settings(n_hidden)
        output_activation = self._output_activation() if first_pass else self.out_activation_
        network = Network(
            layer_units,
            activations,
            output_activation,
            dtype,
            dropout=dropout if self.solver != "lbfgs" else None,
            loss=self._engine_loss(),
            embeddings=layout,
        )
        if first_pass:
            # sklearn's Glorot factor depends on the (first) hidden activation.
            init_activation = activations[0] if activations else self._first_activation()
            network.initialize(random_state, init_activation, self.init)
            self._reset_fitted_state(network)
        else:
            try:
                network.load(self.coefs_, self.intercepts_, getattr(self, "embeddings_", ()))
            except ValueError as exc:
                raise ValueError(
                    "Cannot continue training: the layer sizes implied by "
                    f"hidden_layer_sizes={self.hidden_layer_sizes!r} and the data "
                    f"do not match the fitted coefs_ ({exc}). Refit with "
                    "warm_start=False."
                ) from exc
        self._hidden_activations = list(network.hidden_activations)
        return network

    def _target_dtype(self, dtype):
        """Dtype of the encoded targets the engine trains on."""
        return dtype

    def _effective_sample_weight(self, Y, sample_weight, dtype):
        """Hook: the classifier folds class weights into ``sample_weight``."""
        return sample_weight

    def _first_activation(self):
        activation = self.activation
        return activation if isinstance(activation, str) else "relu"

    def _engine_loss(self):
        """The engine's loss object; None picks the output activation's own."""
        return None

    def _reset_fitted_state(self, network):
        """Attributes of a model about to be trained from scratch."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = network.layer_units[-1]
        self.n_layers_ = network.n_layers
        self.out_activation_ = network.output_activation
        for name in ("_optimizer_state", "_no_improvement_count"):
            if hasattr(self, name):
                delattr(self, name)
        if self.solver in _STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

    def _publish(self, network):
        """Expose the network's weights as sklearn's fitted attributes."""
        self.coefs_ = network.coefs
        self.intercepts_ = network.intercepts
        if network.embeddings is not None:
            self.embeddings_ = network.tables
        else:
            self.__dict__.pop("embeddings_", None)

    def _log(self):
        return print if self.verbose else None

    def _hooks(self, network, task_name, max_subtasks):
        """sklearn-callback hooks for this fit, with the root task begun."""
        hooks = callback_hooks(self, *self._raw_data, max_subtasks, task_name)
        if hooks is not None:
            hooks.fit_begin(network)
        return hooks

    def _fit_lbfgs(self, network, X, Y, sample_weight):
        hooks = self._hooks(network, "lbfgs-iter", self.max_iter + 1)
        outcome, n_iter, loss, loss_curve = fit_lbfgs(
            network,
            X,
            Y,
            sample_weight,
            self.alpha,
            self.max_iter,
            self.max_fun,
            self.tol,
            log=self._log(),
            hooks=hooks,
        )
        if hooks is not None:
            hooks.fit_end(network)
        self._check_finite(outcome, network, X)
        self._publish(network)
        self.n_iter_ = min(n_iter, self.max_iter)
        self.loss_ = loss
        self.loss_curve_ = loss_curve
        if outcome.status == "max_iter":
            warnings.warn(
                "lbfgs failed to converge after "
                f"{self.n_iter_} iteration(s) (status=1): {outcome.message}. "
                "Increase the number of iterations (max_iter) or scale the data.",
                ConvergenceWarning,
            )

    def _check_finite(self, outcome, network, X):
        """Raise if training diverged: a non-finite loss or weights, or weights
        so large that predictions on the training rows overflow. ``_fit`` then
        restores the estimator to its state before the call.
        """
        if outcome.status != "diverged" and self._predicts_finite(network, X):
            return
        raise ValueError(
            f"Training diverged ({outcome.message or 'predictions overflow'}); the "
            "estimator was left as it was before this call. The input data may "
            "contain large values and need to be preprocessed (e.g. StandardScaler), "
            f"or the learning rate (learning_rate_init={self.learning_rate_init}) is "
            f"too large: try {self.learning_rate_init / 10:g}."
        )

    @staticmethod
    def _predicts_finite(network, X):
        """Finite weights, and finite outputs on (up to 256) training rows."""
        if not np.isfinite(network.params).all():
            return False
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return bool(np.isfinite(network.predict(X[:256])).all())

    def _fit_stochastic(
        self, network, X, Y, sample_weight, random_state, first_pass, incremental, validation_data
    ):
        optimizer = self._optimizer(network, resume=incremental and not first_pass)
        schedule = make_schedule(
            self._schedule_name(),
            self.learning_rate_init,
            power_t=self.power_t,
            n_epochs=self.max_iter,
            warmup=self.warmup,
            step_size=self.lr_step_size,
            gamma=self.lr_gamma,
        )
        validation = None
        if validation_data is not None:
            X_val, Y_val, sw_val = self._validate_validation_data(validation_data, network.dtype)
            validation = self._validation(X_val, Y_val, sw_val)
        elif self._early_stopping(incremental):
            X, Y, sample_weight, X_val, Y_val, sw_val = self._split_validation(
                X, Y, sample_weight, random_state
            )
            validation = self._validation(X_val, Y_val, sw_val)
        # Scorers call predict on the estimator: let it see the live weights.
        self._publish(network)
        hooks = self._hooks(network, "epoch", 1 if incremental else self.max_iter)
        config = StochasticConfig(
            batch_size=_resolve_batch_size(self.batch_size, X.shape[0]),
            max_iter=self.max_iter,
            alpha=self.alpha,
            shuffle=self.shuffle,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            incremental=incremental,
            max_grad_norm=self.max_grad_norm,
            early_stopping=self._early_stopping(incremental),
        )
        progress = self._progress(incremental)
        outcome = fit_stochastic(
            network,
            optimizer,
            schedule,
            X,
            Y,
            sample_weight,
            config,
            progress,
            random_state,
            validation=validation,
            log=self._log(),
            dropout_random_state=self._dropout_random_state(network, random_state),
            hooks=hooks,
        )
        if hooks is not None:
            hooks.fit_end(network)
        self._check_finite(outcome, network, X)
        self._store_progress(progress, optimizer, incremental)
        self._publish(network)
        if outcome.status == "interrupted":
            warnings.warn(outcome.message)
        elif outcome.status == "max_iter":
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached "
                "and the optimization hasn't converged yet.",
                ConvergenceWarning,
            )

    def _optimizer(self, network, resume):
        """The update rule; its state carries over between partial_fit calls."""
        options = {"learning_rate": self.learning_rate_init}
        if self.solver == "sgd":
            options.update(momentum=self.momentum, nesterov=self.nesterovs_momentum)
        elif self.solver == "rmsprop":
            options.update(rho=self.beta_2, epsilon=self.epsilon)
        else:
            options.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        if self.solver == "adamw":
            options.update(weight_decay=self.weight_decay, n_decayed=network.n_penalized_params)
        optimizer = make_optimizer(self.solver, network.params.size, network.dtype, **options)
        state = getattr(self, "_optimizer_state", None)
        if resume and state is not None and state.get("solver") == self.solver:
            optimizer.load_state_dict(state)
        return optimizer

    @staticmethod
    def _dropout_random_state(network, random_state):
        """Generator for dropout masks, seeded from ``random_state``.

        Drawn only when the network has dropout, so that without it the
        random stream (and thus shuffling) matches sklearn's exactly.
        """
        if not any(rate > 0 for rate in network.dropout):
            return None
        return np.random.default_rng(random_state.randint(2**31 - 1))

    def _schedule_name(self):
        # sklearn's Adam ignores its `learning_rate` schedule; skdeep keeps
        # that for sklearn's schedules, so swapping the import changes nothing,
        # and applies its own schedules ("cosine", "step") and every schedule
        # of the solvers sklearn lacks.
        if self.solver == "adam" and self.learning_rate in ("invscaling", "adaptive"):
            return "constant"
        return self.learning_rate

    def _early_stopping(self, incremental):
        """Early stopping applies to ``fit``; ``partial_fit`` uses all its data."""
        return self.early_stopping and not incremental

    def _progress(self, incremental):
        """Progress counters, continued from earlier calls where sklearn does."""
        return Progress(
            n_iter=0,
            t=self.t_,
            loss_curve=list(getattr(self, "loss_curve_", None) or []),
            best_loss=(
                self.best_loss_ if getattr(self, "best_loss_", None) is not None else np.inf
            ),
            validation_scores=(
                list(getattr(self, "validation_scores_", None) or [])
                if self._early_stopping(incremental)
                else None
            ),
            best_validation_score=(
                getattr(self, "best_validation_score_", None)
                if getattr(self, "best_validation_score_", None) is not None
                else -np.inf
            ),
            no_improvement_count=getattr(self, "_no_improvement_count", 0),
            history=list(getattr(self, "history_", None) or []),
        )

    def _store_progress(self, progress, optimizer, incremental):
        self.n_iter_ = progress.n_iter
        self.t_ = progress.t
        self.loss_curve_ = progress.loss_curve
        if progress.loss is not None:
            self.loss_ = progress.loss
        if self._early_stopping(incremental):
            self.validation_scores_ = progress.validation_scores
            self.best_validation_score_ = progress.best_validation_score
            self.best_loss_ = None
        else:
            self.best_loss_ = progress.best_loss
            self.validation_scores_ = None
            self.best_validation_score_ = None
        self._no_improvement_count = progress.no_improvement_count
        self._optimizer_state = {"solver": self.solver, **optimizer.state_dict()}
        self.history_ = progress.history
        validation_losses = [r["validation_loss"] for r in progress.history if "validation_loss" in r]
        self.validation_loss_curve_ = validation_losses or None
        if not self._early_stopping(incremental) and validation_losses:
            self.validation_scores_ = [
                r["validation_score"] for r in progress.history if "validation_score" in r
            ]

    def _split_validation(self, X, Y, sample_weight, random_state):
        """Hold out ``validation_fraction`` of the data for early stopping."""
        arrays = [X, Y] if sample_weight is None else [X, Y, sample_weight]
        parts = self._train_test_split(arrays, random_state)
        X_train, X_val, Y_train, Y_val = parts[:4]
        sw_train, sw_val = (parts[4], parts[5]) if sample_weight is not None else (None, None)
        return X_train, Y_train, sw_train, X_val, Y_val, sw_val

    def _validate_validation_data(self, validation_data, dtype):
        """Validate an explicit validation set like the training data."""
        X_val, y_val, sw_val = validation_data
        X_val, y_val = self._validate_data_and_target(X_val, y_val, reset=False)
        X_val = self._as_training_array(X_val, dtype)
        Y_val = np.ascontiguousarray(
            self._encode_validation_target(y_val), dtype=self._target_dtype(dtype)
        )
        sw_val = _check_sample_weight(sw_val, X_val.shape[0], dtype)
        return X_val, Y_val, sw_val

    def _validation(self, X_val, Y_val, sw_val):
        """``evaluate(network) -> (score, loss)`` on the validation set."""
        y_val = self._validation_target(Y_val)
        scorer = self._scorer()

        def evaluate(network):
            logits = network.predict_logits(X_val)
            loss = network.loss.value(logits, Y_val, sw_val)
            if self.scoring == "loss":
                return -loss, loss
            if scorer is not None:
                return self._call_scorer(scorer, X_val, y_val, sw_val), loss
            y_pred = self._decode(logits)
            return self._safe_score(y_val, y_pred, sw_val), loss

        return evaluate

    def _scorer(self):
        if self.scoring is None or self.scoring == "loss":
            return None
        return check_scoring(self, scoring=self.scoring)

    def _call_scorer(self, scorer, X_val, y_val, sw_val):
        # The validation rows are already validated arrays: the scorer's
        # predict call would warn that they lack the fitted feature names.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="X does not have valid feature names")
            # ...and their categorical columns already hold codes.
            self._inputs_encoded = True
            try:
                if sw_val is None:
                    return float(scorer(self, X_val, y_val))
                return float(scorer(self, X_val, y_val, sample_weight=sw_val))
            finally:
                del self._inputs_encoded

    def _train_test_split(self, arrays, random_state):
        """Stratified when possible; plain when the data is too small for it."""
        stratify = self._split_stratify(arrays[1])
        test_size = self._validation_size(arrays[0].shape[0])
        state = random_state.get_state()
        try:
            return train_test_split(
                *arrays, random_state=random_state, test_size=test_size, stratify=stratify
            )
        except ValueError:
            if stratify is None:
                raise
            # Too few samples per class to stratify: split without it, from
            # the same random state so the result stays reproducible.
            random_state.set_state(state)
            return train_test_split(*arrays, random_state=random_state, test_size=test_size)

    def _validation_size(self, n_samples):
        """Rows held out: ``validation_fraction`` of them, and at least 2.

        A score on one row says nothing, so small data sets hold out two rows
        where sklearn would refuse to fit.
        """
        n_validation = int(np.ceil(self.validation_fraction * n_samples))
        if self.validation_fraction > 0 and n_samples >= 3:
            n_validation = max(n_validation, 2)
        if n_validation < 2 or n_validation >= n_samples:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or "
                f"the size of your dataset (got {n_samples} samples and "
                f"validation_fraction={self.validation_fraction})."
            )
        return n_validation

    def _safe_score(self, y_true, y_pred, sample_weight):
        """The score, or NaN when the predictions are not finite."""
        if np.issubdtype(np.asarray(y_pred).dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return self._score_predictions(y_true, y_pred, sample_weight)

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError(
                f"partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

    # ------------------------------------------------------------------
    # Prediction
    # ------------------------------------------------------------------
    def _validate_predict_input(self, X):
        mask = getattr(self, "is_categorical_", None)
        if mask is not None:
            if getattr(self, "_inputs_encoded", False):
                return X
            mask, X = self._categorical_mask(X, reset=False)
            return encode(X, mask, self._lookups(), type(self).__name__)
        if self._is_clean_array(X):
            return X
        return validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            reset=False,
        )

    def _is_clean_array(self, X):
        """Whether ``X`` can skip full validation: the lean predict path.

        A plain 2-D float ndarray with the fitted number of columns, finite
        values and a model fitted without feature names is exactly what
        ``validate_data`` would return unchanged; checking that directly costs
        a few microseconds instead of tens, which dominates one-row latency.
        Anything else takes the full path, with its errors and warnings.
        """
        if not (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in _FLOAT_DTYPES
            and X.shape[0] > 0
            and X.shape[1] == getattr(self, "n_features_in_", -1)
            and not hasattr(self, "feature_names_in_")
        ):
            return False
        if get_config()["assume_finite"]:
            return True
        if X.size <= 4096:
            return bool(np.isfinite(X).all())
        # A NaN or infinity anywhere makes the sum non-finite; a finite sum
        # proves all values finite, without a boolean copy of a large X. (Huge
        # finite values may overflow the sum: they take the full path.)
        with np.errstate(over="ignore", invalid="ignore"):
            return bool(np.isfinite(X.sum()))

    def _forward(self, X):
        """Output-layer logits of the fitted model for validated ``X``."""
        hidden = getattr(self, "_hidden_activations", None)
        if hidden is None:
            hidden = self._hidden_settings(len(self.coefs_) - 1)[0]
        layout = self._embedding_layout()
        if layout is not None:
            X = layout.embed(X, self.embeddings_)
        return forward_logits(X, self.coefs_, self.intercepts_, hidden)

    def _logits(self, X):
        self._check_is_fitted()
        return self._forward(self._validate_predict_input(X))

    def _check_is_fitted(self):
        # sklearn's check_is_fitted scans every attribute name; on one-row
        # predictions that scan was half of the latency. coefs_ is set exactly
        # when the model is fitted.
        if "coefs_" not in self.__dict__:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' "
                "with appropriate arguments before using this estimator."
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        explicit_columns = self.categorical_features is not None and not isinstance(
            self.categorical_features, str
        )
        # Explicit categorical columns need dense input; "from_dtype" finds
        # none in a sparse matrix and trains on it as before.
        tags.input_tags.sparse = not explicit_columns
        tags.input_tags.categorical = self.categorical_features is not None
        return tags

    # ------------------------------------------------------------------
    # Persistence
    # ------------------------------------------------------------------
    def __getstate__(self):
        # sklearn may hand back the instance's own __dict__: copy before tagging.
        state = dict(super().__getstate__())
        state["_skdeep_version"] = __version__
        # A cache of categories_, rebuilt on loading: pickles and skops files
        # hold only arrays.
        state.pop("_category_lookups", None)
        return state

    def __setstate__(self, state):
        saved_version = state.pop("_skdeep_version", None)
        if saved_version is not None and saved_version != __version__:
            warnings.warn(
                f"Trying to unpickle estimator {type(self).__name__} from skdeep "
                f"version {saved_version} when using version {__version__}. This "
                "might lead to breaking code or invalid results. Use at your own risk.",
                UserWarning,
            )
        super().__setstate__(state)
        if getattr(self, "categories_", None) is not None:
            self._category_lookups = category_lookups(self.categories_)
