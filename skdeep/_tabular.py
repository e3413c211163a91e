"""TabularMLPClassifier and TabularMLPRegressor: MLPs tuned for real tables.

Built from parts the drop-in MLPs also use (the task hooks and prediction of
``_base.BaseNeuralNetwork``, the validation data and scores of
``_validation.py``, the fitted-attribute bookkeeping of ``_fitted.py``) and
parts of their own: raw DataFrames in (``_tabular_inputs.py``: numeric
scaling, missing values, categories), one engine network holding every
member of the ensemble (``_engine/tabular.py``), and the loop that trains
the members side by side (``_member_training.py``). The defaults follow
the recipe of "Better by Default" (Holzmüller et al., NeurIPS 2024,
RealMLP-TD), trained for fewer epochs.
"""

import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import ClassifierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, column_or_1d

from . import _options
from ._base import (
    BaseNeuralNetwork,
    _divergence_error,
    _divergence_recovered_warning,
    explicit_validation,
)
from ._callbacks import callback_observer
from ._compat import Interval, StrOptions, _fit_context, with_callbacks
from ._engine import (
    HIDDEN_ACTIVATIONS,
    SCHEDULES,
    TabularNetwork,
    average_logits,
    in_row_chunks,
    inverse_link,
    loss_for_output,
    make_loss,
    make_optimizer,
    make_schedule,
    target_standardisation,
)
from ._fitted import Draft, is_fitted_attribute, member_attributes
from ._inputs import check_labels_present, check_sample_weight
from ._member_training import (
    MemberConfig,
    MemberData,
    MemberLog,
    fit_members,
    member_rows_logits,
    members_predict_finite,
)
from ._engine.parallel import one_blas_thread
from ._options import max_predict_rows
from ._regressor import QuantileRegressorMixin, quantile_columns
from ._tabular_inputs import encode_tabular, learn_tabular_inputs, tabular_layout
from ._validation import Evaluator, TrainingData, validation_data, validation_rows

__all__ = ["TabularMLPClassifier", "TabularMLPRegressor"]

_INIT_ROWS = 2048

#: The "auto" training budget (``max_iter="auto"``): this many epochs for a
#: table of up to ``_FULL_BUDGET_ROWS`` training rows per network...
_AUTO_EPOCHS = 20
_FULL_BUDGET_ROWS = 50_000
#: ... and for a larger table fewer, never fewer than this.
_MIN_AUTO_EPOCHS = 4


def auto_epochs(n_train):
    """Epochs of the "auto" budget for ``n_train`` training rows per network.

    20 epochs up to 50,000 rows; beyond, the epochs shrink with the square
    root of the rows (down to 4), so the rows seen in training still grow,
    but as the square root of the table: each epoch of a large table
    already makes many steps. 20 epochs were chosen on the tune half of the
    benchmark tables (as accurate as 32); shrinking them from 16,000 rows
    on cost its three largest tables (20,000 to 38,000 training rows)
    0.001 on average, so the shrinking starts beyond them. See the "Real
    tables" guide.
    """
    if n_train <= _FULL_BUDGET_ROWS:
        return _AUTO_EPOCHS
    return max(_MIN_AUTO_EPOCHS, round(_AUTO_EPOCHS * (_FULL_BUDGET_ROWS / n_train) ** 0.5))


#: The update rule's numerical guard (Adam's epsilon).
_EPSILON = 1e-8


def _bins(fitted):
    """The piecewise-linear encoding's bins learned at fit, or None."""
    if "bin_lower_" not in fitted or not len(fitted["bin_lower_"]):
        return None
    return fitted["bin_lower_"], fitted["bin_inverse_width_"]


def _fitted_layout(fitted):
    """The embedded columns of a fitted model (their widths read from its tables)."""
    return tabular_layout(fitted, None) if len(fitted.get("embeddings_", ())) else None


def _through_in_chunks(network, X, last):
    """Every member's output of layer ``last`` for ``X``, side by side (member 0 first).

    Shape ``(n_samples, n_members * width)``; in row chunks within ``working_memory``.
    """
    def side_by_side(rows):
        outputs = network.predict_through(np.broadcast_to(rows, (network.n_members, *rows.shape)),
                                          last)
        return np.concatenate(list(outputs), axis=1)

    return in_row_chunks(side_by_side, X, max_predict_rows(network.predict_row_bytes, X.shape[0]))


class _Divergence:
    """What ``_base``'s divergence messages read from a training result."""

    def __init__(self, message, n_iter, best_validation_score):
        self.message = message
        self.state = type("State", (), {"n_iter": n_iter,
                                        "best_validation_score": best_validation_score})


class _BaseTabularMLP(BaseNeuralNetwork):
    """What both tabular estimators share: inputs, the ensemble's fit, prediction."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS))],
        "learning_rate": [StrOptions(set(SCHEDULES))],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "stop_when_overfitting": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "scale_lr": [Interval(Real, 0, None, closed="left")],
        "clip": [None, Interval(Real, 0, None, closed="neither")],
        "max_one_hot": [Interval(Integral, 0, None, closed="left")],
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "numeric_embedding": [StrOptions({"periodic"}), None],
        "piecewise_bins": [Interval(Integral, 0, None, closed="left")],
        "piecewise_features": [None, Interval(Integral, 1, None, closed="left")],
        "value_embedding_min_count": [Interval(Integral, 0, None, closed="left")],
        "value_embedding_min_gain": [Interval(Real, None, 1, closed="right"), None],
        "parametric_activation": ["boolean"],
        "n_networks": [Interval(Integral, 1, None, closed="left")],
        "scoring": [None, str, callable],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    @with_callbacks
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Fit the ensemble to the raw table ``X`` and target ``y``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Raw input: numeric, boolean, category and string columns, NaN
            anywhere.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels, or target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights: each row's share of the loss.
        X_val : DataFrame or array-like of shape (n_val, n_features), default=None
            Explicit validation data, in the layout of ``X``: every network
            chooses its best epoch on it instead of on its own
            ``validation_fraction`` split.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Targets of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Sample weights of ``X_val``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        validation = explicit_validation(X_val, y_val, sample_weight_val)
        draft = Draft(self, {})
        data = self._prepare(draft, X, y, sample_weight)
        random_states, seeds = self._member_random_states()
        network = self._network(draft, data, random_states)
        members, evaluate = self._member_data(draft, network, data, random_states, validation, y)
        n_train = members.train_rows.shape[1]
        progress = fit_members(
            network, self._optimizer(network), self._schedule(n_train), members,
            self._member_config(n_train), random_states,
            evaluate=evaluate, observers=self._observers(draft, (X, y, sample_weight), n_train),
        )
        return self._commit(draft, network, progress, seeds, data, n_train)

    def _member_random_states(self):
        """Each member's random state, and its seed (None for a single network).

        A single network draws from ``random_state`` itself; the members of
        an ensemble from seeds drawn from it, one each.
        """
        if self.n_networks == 1:
            return [check_random_state(self.random_state)], [None]
        seeds = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=self.n_networks)
        return [np.random.RandomState(seed) for seed in seeds], [int(seed) for seed in seeds]

    def _prepare(self, draft, X, y, sample_weight):
        """Validated, encoded training arrays; the draft learns the input and target."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        Y, target = self._learn_target(y, None)
        X, draft.fitted = learn_tabular_inputs(self, X, Y)
        draft.fitted.update(target)
        if len(Y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(Y)}.")
        dtype = np.float32
        X = np.ascontiguousarray(X, dtype=dtype)
        Y = np.ascontiguousarray(Y, dtype=self._target_dtype(dtype))
        sample_weight = check_sample_weight(sample_weight, X.shape[0], dtype)
        sample_weight = self._effective_sample_weight(draft.as_estimator(), Y, sample_weight,
                                                      dtype)
        return TrainingData(X, Y, sample_weight)

    def _encode_with_target(self, fitted, X, y):
        X = encode_tabular(fitted, X)
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} rows but its target has {len(y)}.")
        return X, y

    def _network(self, draft, data, random_states):
        """Every member's network, each initialised from its own random state and rows."""
        network = self._empty_network(draft.fitted, len(random_states), data.X.shape[1],
                                      data.Y.shape[1], data.X.dtype)
        n_samples = data.X.shape[0]
        samples = [data.X[np.sort(random_state.permutation(n_samples)[:_INIT_ROWS])]
                   for random_state in random_states]
        # On one BLAS thread: a threaded product may round differently, and the
        # initial weights must not depend on the thread count.
        with one_blas_thread():
            network.initialize(random_states, np.stack(samples))
        return network

    def _empty_network(self, fitted, n_members, n_inputs, n_outputs, dtype):
        """The network of a fit for the learned inputs ``fitted``, not yet initialised."""
        return TabularNetwork(
            n_members,
            n_inputs,
            tabular_layout(fitted, self.embedding_dim),
            [int(size) for size in np.atleast_1d(self.hidden_layer_sizes)],
            self.activation,
            n_outputs,
            self._engine_loss(),
            dtype,
            dropout=self.dropout,
            scale_lr=self.scale_lr,
            n_periodic=self._n_periodic(fitted),
            parametric_activation=self.parametric_activation,
            bins=_bins(fitted),
            bin_features=self.piecewise_features,
        )

    def _n_periodic(self, fitted):
        """Columns that get periodic features: the scaled numeric ones."""
        if self.numeric_embedding is None:
            return 0
        return len(fitted["numeric_center_"])

    def _member_data(self, draft, network, data, random_states, validation, y):
        """Each member's training rows, and the evaluation of every member's validation data.

        With early stopping (and no explicit validation data) each member
        holds out its own ``validation_fraction`` of the rows, drawn from its
        own random state, and chooses its best epoch on them.
        """
        n_samples, k = data.X.shape[0], len(random_states)
        everything = np.arange(n_samples)
        if validation is not None:
            held_out = validation_data(self, draft.as_estimator(), validation, data.X.dtype, y=y)
            rows = np.tile(np.arange(held_out.X.shape[0]), (k, 1))
            members = MemberData(data.X, data.Y, data.sample_weight, np.tile(everything, (k, 1)))
            return members, self._evaluation(draft, network, held_out, rows)
        if not self.early_stopping:
            return MemberData(data.X, data.Y, data.sample_weight,
                              np.tile(everything, (k, 1))), None
        stratify = self._split_stratify(data.Y)
        splits = [validation_rows(n_samples, self.validation_fraction, stratify, random_state)
                  for random_state in random_states]
        members = MemberData(data.X, data.Y, data.sample_weight,
                             np.stack([train for train, _ in splits]))
        held_out_rows = np.stack([held_out for _, held_out in splits])
        return members, self._evaluation(draft, network, data, held_out_rows)

    def _evaluation(self, draft, network, data, rows):
        """``evaluate(network, team) -> (scores, losses)`` of each member on its ``rows``."""
        outputs = {"out_activation_": network.output_activation,
                   "n_outputs_": network.layer_units[-1]}
        decoder = draft.as_estimator(outputs)
        scoring = self._monitored_scoring()
        evaluators = []
        for member, member_rows in enumerate(rows):
            held_out = TrainingData(
                data.X[member_rows] if scoring not in (None, "loss") else None,
                data.Y[member_rows],
                None if data.sample_weight is None else data.sample_weight[member_rows])
            evaluators.append(Evaluator(
                held_out, self._decode_target(decoder, held_out.Y), scoring,
                lambda logits: self._decode(decoder, logits), self._score_predictions,
                self._scoring_view(draft, network, member, held_out.X)))

        def evaluate(network, team=None):
            logits = member_rows_logits(
                network, data.X, rows, max_predict_rows(network.predict_row_bytes, rows.shape[1]),
                team)
            results = [evaluator.score_logits(network.loss, member_logits)
                       for evaluator, member_logits in zip(evaluators, logits)]
            scores, losses = zip(*results)
            return np.array(scores), np.array(losses)

        return evaluate

    def _scoring_view(self, draft, network, member, X_held_out):
        """For a scorer: the model of member ``member`` with its live weights."""
        def view():
            live = member_attributes(network, member, copy=False)
            return draft.as_estimator({**live, "_encoded_input": X_held_out})
        return view

    def _optimizer(self, network):
        """AdamW over every member's parameters (elementwise: each member's own update)."""
        return make_optimizer(
            "adamw", network.params.size, network.dtype,
            learning_rate=self.learning_rate_init, beta_1=self.beta_1, beta_2=self.beta_2,
            epsilon=_EPSILON, weight_decay=self.weight_decay,
            n_decayed=network.n_penalized_params, lr_scales=network.lr_scales,
        )

    def _n_epochs(self, n_train):
        """Epochs of a fit on ``n_train`` rows per member: ``max_iter``, or the auto budget."""
        if self.max_iter == "auto":
            return auto_epochs(n_train)
        return int(self.max_iter)

    def _schedule(self, n_train):
        return make_schedule(self.learning_rate, self.learning_rate_init,
                             n_epochs=self._n_epochs(n_train))

    def _member_config(self, n_train):
        # Only the last restart: the earlier cycles are short (up to 3 epochs
        # of 20), and a few held-out rows' scores too noisy to judge them by.
        cycle_ends = self._schedule(n_train).cycle_ends()[-1:] if self.stop_when_overfitting else ()
        return MemberConfig(batch_size=self._batch_size(n_train), max_iter=self._n_epochs(n_train),
                            early_stopping=bool(self.early_stopping),
                            n_iter_no_change=self.n_iter_no_change, cycle_ends=cycle_ends)

    def _batch_size(self, n_samples):
        if self.batch_size != "auto":
            return min(int(self.batch_size), n_samples)
        for limit, size in ((1024, 64), (8192, 128), (30_000, 256), (100_000, 512)):
            if n_samples <= limit:
                return min(size, n_samples)
        return 1024

    def _observers(self, draft, fit_args, n_train):
        """Verbose output and sklearn's callbacks for this fit."""
        n_epochs = self._n_epochs(n_train)
        observers = [MemberLog(n_epochs)] if self.verbose else []

        def reconstruct(network):
            # The model as it would be with the network's current weights.
            return self._fitted_state(draft, network, [{}] * network.n_members, copy=True)

        callbacks = callback_observer(self, fit_args, n_epochs, "epoch", reconstruct)
        return observers if callbacks is None else [*observers, callbacks]

    # ------------------------------------------------------------------
    # Committing the fitted model
    # ------------------------------------------------------------------
    def _commit(self, draft, network, progress, seeds, data, n_train):
        """Check how each member ended, then write the fitted model in one assignment."""
        recovered = self._check_members(network, progress, data)
        runs = [self._progress_attributes(member, n_train) for member in progress]
        state = self._fitted_state(draft, network, runs, copy=False, seeds=seeds)
        kept = {k: v for k, v in self.__dict__.items() if not is_fitted_attribute(k)}
        # One assignment: a predict running in another thread holds either the
        # old dict or the new one (see _snapshot), never a mix of the two.
        self.__dict__ = {**kept, **state}
        for warning in recovered:
            warnings.warn(warning)
        return self

    def _check_members(self, network, progress, data):
        """Raise for a member that diverged with no epoch to keep; warnings for the others."""
        recovered = []
        early_stopping = bool(self.early_stopping)
        if not members_predict_finite(network, data.X):
            for member in progress:
                member.stopped = member.stopped or "diverged"
                member.message = member.message or "predictions overflow"
        for i, member in enumerate(progress):
            if member.stopped != "diverged":
                if early_stopping and not member.best_validation_score > -np.inf:
                    raise self._no_finite_score_error(member)
                continue
            result = _Divergence(member.message, member.n_iter, member.best_validation_score)
            if not (early_stopping and member.found_best):
                raise _divergence_error(result, self, data)
            recovered.append(_divergence_recovered_warning(result, self, data))
        return recovered

    def _no_finite_score_error(self, member):
        return ValueError(
            "Every validation score of a network of this fit was NaN or -inf "
            f"({member.validation_scores!r}), so early stopping found no best epoch and "
            "the model would keep its untrained weights; the estimator was left as it "
            "was before this call. Check that the scorer can score the validation data "
            "(for example, 'roc_auc' needs both classes in the validation set), or pass "
            "another `scoring`."
        )

    def _progress_attributes(self, member, n_train):
        """One member's training run as sklearn's fitted attributes (and skdeep's)."""
        early_stopping = bool(self.early_stopping)
        validation_losses = [r["validation_loss"] for r in member.history
                             if "validation_loss" in r]
        scores = None
        if early_stopping:
            scores = member.validation_scores
        elif validation_losses:
            scores = [r.get("validation_score", np.nan) for r in member.history]
        loss = member.loss_curve[-1] if member.loss_curve else None
        return {
            "n_iter_": member.n_iter,
            "t_": member.n_iter * n_train,
            "loss_curve_": member.loss_curve,
            "loss_": None if loss is None else np.float64(loss),
            "best_loss_": None if early_stopping else min(member.loss_curve, default=np.inf),
            "validation_scores_": scores,
            "best_validation_score_": member.best_validation_score if early_stopping else None,
            "history_": member.history,
            "validation_loss_curve_": validation_losses or None,
            "_no_improvement_count": member.no_improvement_count,
        }

    def _fitted_state(self, draft, network, runs, copy, seeds=None):
        """Every fitted attribute of the model: shared ones, then one set per network."""
        shared = dict(draft.fitted)
        networks = [{**member_attributes(network, i, copy), **run} for i, run in enumerate(runs)]
        if network.n_members == 1:
            return {**shared, **networks[0]}
        seeds = seeds or [None] * network.n_members
        members = []
        for seed, attributes in zip(seeds, networks):
            member = clone(self).set_params(n_networks=1, random_state=seed)
            member.__dict__.update(shared)
            member.__dict__.update(attributes)
            members.append(member)
        layout = {k: networks[0][k] for k in
                  ("n_layers_", "n_outputs_", "out_activation_", "_hidden_activations")}
        return {**shared, **layout, "estimators_": members,
                "n_iter_": np.array([attributes.get("n_iter_", 0) for attributes in networks])}

    # ------------------------------------------------------------------
    # Prediction
    # ------------------------------------------------------------------
    def _snapshot(self):
        """This estimator as it is now, unaffected by a fit committing meanwhile."""
        snapshot = object.__new__(type(self))
        snapshot.__dict__ = self.__dict__
        if "coefs_" not in snapshot.__dict__ and "estimators_" not in snapshot.__dict__:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' "
                "with appropriate arguments before using this estimator."
            )
        return snapshot

    def _networks(self):
        """The fitted networks' attribute dicts: the members, or the model itself."""
        if "estimators_" in self.__dict__:
            return [member.__dict__ for member in self.estimators_]
        return [self.__dict__]

    def _logits(self, X):
        X = self._encoded_for_prediction(X)
        network = self._prediction_network(X.shape[1])
        stacked = np.broadcast_to(X, (network.n_members, *X.shape))
        logits = network.predict_logits(
            stacked, max_predict_rows(network.predict_row_bytes, X.shape[0]))
        if network.n_members == 1:
            return logits[0]
        return average_logits(self.out_activation_, list(logits))

    def _encoded_for_prediction(self, X):
        """Raw ``X`` encoded as in training, in float64."""
        # A scorer's view takes its encoded validation array as it is (and only
        # that array: the scorer may predict raw data too).
        X = X if X is self.__dict__.get("_encoded_input") else encode_tabular(self, X)
        # Training runs in float32; predicting in float64 costs little and
        # makes a row's prediction independent of the rows around it.
        return np.asarray(X, dtype=np.float64)

    def _prediction_network(self, n_columns):
        """A float64 network holding every fitted network's arrays, one member each.

        Everything it needs is read from the fitted state, never from the
        current parameters.
        """
        networks = self._networks()
        first = networks[0]
        network = TabularNetwork(
            len(networks), n_columns, _fitted_layout(first),
            [W.shape[1] for W in first["coefs_"][:-1]], first["_hidden_activations"][0]
            if first["_hidden_activations"] else "identity",
            first["n_outputs_"], _PredictionLoss(first["out_activation_"]), np.float64,
            n_periodic=(len(first["numeric_center_"]) if "periodic_embedding_" in first
                        else 0),
            parametric_activation="activation_strength_" in first,
            bins=_bins(first),
            bin_features=(first["piecewise_embedding_"][0].shape[2]
                          if "piecewise_embedding_" in first else None),
        )
        for member, fitted in enumerate(networks):
            network.load_arrays(
                member, fitted["coefs_"], fitted["intercepts_"], fitted["input_scale_"],
                fitted.get("embeddings_", ()), fitted.get("periodic_embedding_", ()),
                fitted.get("activation_strength_", ()), fitted.get("piecewise_embedding_", ()))
        return network

    # ------------------------------------------------------------------
    # Learned features, for skdeep.MLPFeatures
    # ------------------------------------------------------------------
    def _hidden_features(self, X, layer):
        """Hidden layer ``layer`` of every network, side by side (see :class:`MLPFeatures`)."""
        network, X = self._snapshot()._every_network(X)
        return _through_in_chunks(network, X, network.hidden_outputs[layer])

    def _embedding_features(self, X):
        """The embedded columns' vectors of every network, side by side."""
        network, X = self._snapshot()._every_network(X)
        if network.embeddings is None:
            return np.empty((X.shape[0], 0))
        n_dense = len(network.embeddings.numeric_columns)
        width = network.embeddings.n_inputs
        embedded = _through_in_chunks(network, X, network.layers[0])
        keep = np.concatenate([np.arange(m * width + n_dense, (m + 1) * width)
                               for m in range(network.n_members)])
        return embedded[:, keep]

    def _embedded_columns(self):
        # Categorical columns with few categories are one-hot encoded, not
        # embedded; numeric columns with frequent values come after them.
        categorical = np.flatnonzero(self.is_categorical_)
        numeric = np.flatnonzero(~np.asarray(self.is_categorical_, dtype=bool))
        with_values = [len(values) > 0 for values in self.__dict__.get("frequent_values_", ())]
        return np.concatenate([categorical[~np.asarray(self.one_hot_, dtype=bool)],
                               numeric[np.asarray(with_values, dtype=bool)]]).astype(int)

    def _every_network(self, X):
        """The fitted networks (one member each) and ``X`` encoded for them."""
        X = self._encoded_for_prediction(X)
        return self._prediction_network(X.shape[1]), X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.input_tags.sparse = True  # densified: a table's columns are few
        return tags


class _PredictionLoss:
    """The one thing a prediction network needs of a loss: its output activation."""

    def __init__(self, output_activation):
        self.output_activation = output_activation

    def inverse_link(self, Z):
        return inverse_link(self.output_activation, Z)


class TabularMLPClassifier(ClassifierMixin, _BaseTabularMLP):
    """Multi-layer perceptron classifier with defaults tuned for tabular data.

    Takes a raw pandas DataFrame (numeric, boolean, category and string
    columns, NaN anywhere) or an array, with no preprocessing pipeline.
    Numeric columns are robustly scaled and smoothly clipped, missing values
    get indicator columns, categorical columns are one-hot encoded (few
    categories) or embedded (many); all of it is learned at ``fit`` and kept
    as fitted state. The network (piecewise-linear and periodic encodings
    of the numeric columns, a learned scale per input column, three hidden
    layers of 256 SELU units with dropout, data-dependent initialisation)
    is trained by AdamW with a "coslog" learning-rate
    schedule against label-smoothed cross-entropy, and the epoch with the
    best validation accuracy is kept. Three such networks, each from its
    own seed, are trained and their class probabilities averaged.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(256, 256, 256)
        Width of each hidden layer.
    activation : str, default='selu'
        Hidden activation (any of :class:`MLPClassifier`'s).
    learning_rate : str, default="coslog"
        Learning-rate schedule (any of :class:`MLPClassifier`'s). "coslog"
        runs four cosine cycles, each twice as long as the one before and
        each rising from 0 (a warm-up) and ending at 0, updated every batch;
        "constant" keeps ``learning_rate_init``.
    learning_rate_init : float, default=0.04
        Peak learning rate; each dense layer learns at this rate divided by
        the square root of its fan-in, the biases at a tenth of it.
    max_iter : int or "auto", default="auto"
        Number of epochs (the schedule spans them all). "auto": 20 for up
        to 50,000 training rows per network, then fewer as the table grows
        (in proportion to the inverse square root of its rows, at least 4),
        so a fit's cost grows as the square root of the rows. ``n_iter_``
        gives the epochs run.
    batch_size : int or "auto", default="auto"
        Mini-batch size. "auto" grows with the training set so that small
        tables still get enough steps and large ones run efficiently: 64 up
        to 1,024 rows, 128 up to 8,192, 256 up to 30,000, 512 up to 100,000,
        1,024 beyond (the rule of pytabkit's RealMLP).
    early_stopping : bool, default=True
        Keep the epoch with the best validation score (see
        ``validation_fraction``); False trains on all the data and keeps the
        last epoch.
    validation_fraction : float, default=0.2
        Share of the training data (stratified) held out to choose the best
        epoch; ``fit(X, y, X_val=..., y_val=...)`` uses explicit data instead.
    n_iter_no_change : int, default=64
        Stop after this many epochs without a better validation score.
    stop_when_overfitting : bool, default=True
        With early stopping and a schedule of cycles ("coslog"), stop where
        the last cycle would begin (after 10 of 20 epochs) when every
        network, in each epoch of the falling half of the cycle that ends
        there, scored below its best before them: the networks are getting
        worse with training, and the last cycle, as long as all the others
        together, would not help. On the tune tables of the benchmark this
        stops the fits of one table of twelve, with the same best epochs.
        False always runs every epoch.
    dropout : float, default=0.15
        Dropout rate after each hidden layer.
    weight_decay : float, default=0.02
        Decoupled weight decay of the weights and embeddings.
    beta_1, beta_2 : float, default=0.9, 0.95
        Adam's moment decay rates.
    label_smoothing : float, default=0.1
        Train against ``(1 - eps) * one_hot(y) + eps / n_classes``.
    scale_lr : float, default=6.0
        Learning-rate factor of the per-column input scale.
    clip : float or None, default=3.0
        Bound of the smooth clipping of scaled numeric columns; None keeps
        them unclipped (within 1e12 times the column's spread, so that no
        value overflows the network). Infinite values are refused.
    max_one_hot : int, default=8
        Categorical columns with at most this many categories are one-hot
        encoded; others get an embedding.
    embedding_dim : int, default=8
        Width of each categorical embedding.
    numeric_embedding : {"periodic"} or None, default="periodic"
        Learned periodic features of each numeric column (16 frequencies
        with learned phases, then 3 linear features, beside the value
        itself), the "PBLD" embedding of RealMLP; None feeds the scaled
        values alone.
    piecewise_bins : int, default=32
        Number of quantile bins of each numeric column's piecewise-linear
        encoding: one input per bin, 0 below it, 1 above it, linear inside
        it, so that a unit can switch on at any bin edge as a tree's split
        does. A column with few distinct values gets one bin between each
        two of them. 0 leaves the encoding out.
    piecewise_features : int or None, default=8
        Learned linear features per numeric column computed from its
        piecewise-linear encoding, which then reach the first layer in its
        place: the first layer's input grows by this many columns per
        numeric column instead of by ``piecewise_bins``. None feeds the
        encodings themselves.
    value_embedding_min_count : int, default=4
        Numeric values that occur at least this many times in the training
        rows also get a learned embedding vector of ``embedding_dim``, as
        categories do, so that the network can single out an exact value
        (a round price, a salary converted from one currency, a code stored
        as a number) that its magnitude alone does not reveal. A column
        gets them only when it has more distinct values than
        ``piecewise_bins`` (fewer, the piecewise-linear encodings already
        tell apart; at least three), at least two such values, and when on
        the training rows its exact values predict the target better than
        its ``piecewise_bins`` quantile bins do (see
        ``value_embedding_min_gain``): on smooth quantities a vector per
        value would only memorise the training targets. Other values and
        missing ones share row 0. 0 leaves the value embeddings out.
    value_embedding_min_gain : float or None, default=0.05
        How much better a column's exact values must predict the training
        target than its quantile bins for the column to get value
        embeddings: the relative reduction of the squared error of
        leave-one-out means (each row predicted by the mean target of the
        other rows with its value, or in its bin; sample weights are not
        used), 0.05 for 5 %. None skips the test: every column with
        frequent values gets them.
    parametric_activation : bool, default=False
        Whether each hidden unit learns the strength ``a`` of its
        activation, ``z + a * (f(z) - z)`` (from 1; weight decay pulls it
        towards a linear unit), as RealMLP does. Off by default (see the
        ablation in the user guide).
    n_networks : int, default=3
        Number of networks trained, each from its own seed (initialisation,
        shuffling, dropout and validation split), whose class probabilities
        are averaged: the ensemble predicts better than its members do (see
        the user guide) and costs ``n_networks`` fits. With 1, the single
        network's weights and training history are the model's attributes;
        with more, each member (in ``estimators_``) holds its own.
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into ``sample_weight``.
    scoring : str, callable or None, default=None
        Score of the validation data that selects the best epoch: None is
        accuracy, ``'loss'`` the validation loss, or any sklearn scorer.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, the validation split, shuffling and dropout.
    verbose : bool, default=False
        Print one line per epoch.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of str
        Column names, when X is a DataFrame with string column names.
    is_categorical_ : ndarray of bool
        Which input columns were treated as categorical.
    time_kinds_ : ndarray of str
        Per input column, ``"datetime"`` (dates and times, fed as seconds
        since 1970-01-01 UTC), ``"timedelta"`` (durations, fed as seconds)
        or ``""``; a time column must keep its kind at predict.
    categories_ : list of ndarray
        Known categories of each categorical column.
    one_hot_ : ndarray of bool
        Which categorical columns are one-hot encoded (the others embedded).
    frequent_values_ : list of ndarray
        Per numeric column, the sorted values that have an embedding (with
        ``value_embedding_min_count``; empty for the others).
    numeric_center_, numeric_scale_ : ndarray
        Median and inverse spread of each numeric column.
    clip_ : float or None
        The ``clip`` of the fit, which ``predict`` applies (a later
        ``set_params(clip=...)`` takes effect at the next fit).
    missing_indicator_ : ndarray of bool
        Numeric columns that had missing values in training (each gets an
        indicator column).
    coefs_, intercepts_ : list of ndarray
        Weights and biases of the dense layers.
    input_scale_ : ndarray
        The learned per-column scale in front of the first dense layer.
    embeddings_ : list of ndarray
        Embedding tables of the embedded categorical columns, then of the
        numeric columns with frequent values (row 0: unknown or other).
    periodic_embedding_ : list of ndarray
        Frequencies, phases, weights and biases of the periodic numeric
        embedding (with ``numeric_embedding="periodic"``).
    bin_lower_, bin_inverse_width_ : ndarray of shape (n_numeric, piecewise_bins)
        Lower edge and inverse width of each bin of the piecewise-linear
        encoding of the scaled numeric columns (with ``piecewise_bins > 0``;
        0 marks an unused bin).
    piecewise_embedding_ : list of ndarray
        Weights ``(n_numeric, piecewise_bins, piecewise_features)`` and
        biases of the learned features of the encodings (with
        ``piecewise_features`` set).
    activation_strength_ : list of ndarray
        Learned activation strength of each hidden unit, per layer (with
        ``parametric_activation=True``).
    best_validation_score_ : float
        Validation accuracy of the kept epoch.
    validation_scores_, loss_curve_, history_ : list
        Per-epoch validation scores, training losses and records.
    n_iter_ : int or ndarray of shape (n_networks,)
        Epochs run (by each member, for an ensemble).
    estimators_ : list of TabularMLPClassifier
        With ``n_networks > 1``, the members: one-network models fitted
        from their own seeds, each with the network attributes above
        (``coefs_`` to ``validation_scores_``), which the ensemble itself
        does not have.

    See Also
    --------
    TabularMLPRegressor : The regression counterpart.
    MLPClassifier : The drop-in for scikit-learn's MLP, with its defaults.
    sklearn.ensemble.HistGradientBoostingClassifier : Boosted trees, which
        also take raw tables.

    Examples
    --------
    >>> import pandas as pd
    >>> from skdeep import TabularMLPClassifier
    >>> X = pd.DataFrame({"size": [1.0, 2.5, None, 4.0] * 30,
    ...                   "color": ["red", "blue", "red", None] * 30})
    >>> y = [0, 1, 0, 1] * 30
    >>> clf = TabularMLPClassifier(max_iter=5, random_state=0).fit(X, y)
    >>> clf.predict(X.head(2)).shape
    (2,)
    """

    _parameter_constraints: dict = {
        **_BaseTabularMLP._parameter_constraints,
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    _y_numeric = False

    def __init__(self, hidden_layer_sizes=(256, 256, 256), activation="selu", *,
                 learning_rate="coslog", learning_rate_init=0.04, max_iter="auto",
                 batch_size="auto", early_stopping=True, validation_fraction=0.2,
                 n_iter_no_change=64, stop_when_overfitting=True, dropout=0.15,
                 weight_decay=0.02, beta_1=0.9, beta_2=0.95,
                 label_smoothing=0.1, scale_lr=6.0, clip=3.0, max_one_hot=8, embedding_dim=8,
                 numeric_embedding="periodic", piecewise_bins=32, piecewise_features=8,
                 value_embedding_min_count=4, value_embedding_min_gain=0.05,
                 parametric_activation=False, n_networks=3,
                 class_weight=None, scoring=None,
                 random_state=None, verbose=False):
        self._set_params_from_init(locals())

    def _learn_target(self, y, classes):
        y = _labels(y)
        classes_ = np.unique(y)
        if len(classes_) < 2:
            raise ValueError(
                f"The target has {len(classes_)} class; a classifier needs at least 2."
            )
        return np.eye(len(classes_), dtype=bool)[np.searchsorted(classes_, y)], {
            "classes_": classes_
        }

    def _encode_target(self, fitted, y, name):
        y = _labels(y, name)
        index = np.searchsorted(fitted.classes_, y).clip(0, len(fitted.classes_) - 1)
        unknown = fitted.classes_[index] != y
        if unknown.any():
            raise ValueError(f"{name} has classes not seen in y: {np.unique(y[unknown])}.")
        return np.eye(len(fitted.classes_), dtype=bool)[index]

    def _target_dtype(self, dtype):
        return bool

    def _output_activation(self, target_attributes):
        return "softmax"

    def _engine_loss(self):
        return make_loss("log_loss", label_smoothing=self.label_smoothing)

    def _effective_sample_weight(self, fitted, Y, sample_weight, dtype, require_positive=True):
        if self.class_weight is None:
            return sample_weight
        labels = fitted.classes_[Y.argmax(axis=1)]
        weights = compute_sample_weight(self.class_weight, labels)
        if sample_weight is not None:
            weights = weights * sample_weight
        return check_sample_weight(weights, len(labels), dtype, name="class_weight",
                                   require_positive=require_positive)

    def _decode(self, fitted, logits):
        return fitted.classes_[logits.argmax(axis=1)]

    def _decode_target(self, fitted, Y):
        return fitted.classes_[Y.argmax(axis=1)]

    def _score_predictions(self, y_true, y_pred, sample_weight):
        # accuracy_score's arithmetic without its argument checks, which cost
        # milliseconds per call: the validation data scores every member
        # after every epoch, and its labels are already checked.
        return float(np.average(np.asarray(y_true) == y_pred, weights=sample_weight))

    def _split_stratify(self, Y):
        return Y.argmax(axis=1)


    def predict_proba(self, X):
        """Probability of each class, in the order of ``classes_``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Raw input in the layout of the training data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        model = self._snapshot()
        return loss_for_output("softmax").probabilities(model._logits(X))


class TabularMLPRegressor(QuantileRegressorMixin, _BaseTabularMLP):
    """Multi-layer perceptron regressor with defaults tuned for tabular data.

    Takes a raw DataFrame like :class:`TabularMLPClassifier` and trains the
    same network (Mish units by default) on the standardised target against
    the squared error (or, with ``loss="quantile"``, the pinball loss of one
    or several quantile levels); predictions are mapped back to the
    target's scale and kept within the range seen in training. The epoch
    with the best validation R^2 (the best validation loss, for quantiles)
    is kept.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(256, 256, 256)
        Width of each hidden layer.
    activation : str, default='mish'
        Hidden activation.
    learning_rate : str, default="coslog"
        Learning-rate schedule (see :class:`TabularMLPClassifier`).
    learning_rate_init : float, default=0.2
        Peak learning rate (see :class:`TabularMLPClassifier`).
    max_iter : int or "auto", default="auto"
        Number of epochs (see :class:`TabularMLPClassifier`).
    batch_size : int or "auto", default="auto"
        Mini-batch size (see :class:`TabularMLPClassifier`).
    early_stopping : bool, default=True
        Keep the epoch with the best validation score (see
        :class:`TabularMLPClassifier`).
    validation_fraction : float, default=0.2
        Share of the training data held out to choose the best epoch.
    n_iter_no_change : int, default=64
        Stop after this many epochs without a better validation score.
    stop_when_overfitting : bool, default=True
        Stop where the last learning-rate cycle would begin when every
        network is getting worse with training (see
        :class:`TabularMLPClassifier`); False always runs every epoch.
    dropout : float, default=0.15
        Dropout rate after each hidden layer.
    weight_decay : float, default=0.02
        Decoupled weight decay.
    beta_1, beta_2 : float, default=0.9, 0.95
        Adam's moment decay rates.
    scale_lr : float, default=6.0
        Learning-rate factor of the per-column input scale.
    clip : float or None, default=3.0
        Bound of the smooth clipping of scaled numeric columns (see
        :class:`TabularMLPClassifier`).
    max_one_hot : int, default=8
        One-hot encode categorical columns with at most this many categories.
    embedding_dim : int, default=8
        Width of each categorical embedding.
    numeric_embedding : {"periodic"} or None, default="periodic"
        Learned periodic features of each numeric column (16 frequencies
        with learned phases, then 3 linear features, beside the value
        itself), the "PBLD" embedding of RealMLP; None feeds the scaled
        values alone.
    piecewise_bins : int, default=32
        Number of quantile bins of each numeric column's piecewise-linear
        encoding (see :class:`TabularMLPClassifier`); 0 leaves it out.
    piecewise_features : int or None, default=8
        Learned linear features per numeric column from its encoding (see
        :class:`TabularMLPClassifier`); None feeds the encodings themselves.
    value_embedding_min_count : int, default=4
        Numeric values that occur at least this many times in training get
        their own embedding, in the columns where the exact value predicts
        the target better than its bin (see :class:`TabularMLPClassifier`);
        0 leaves the value embeddings out.
    value_embedding_min_gain : float or None, default=0.05
        Least relative reduction of the leave-one-out squared error for a
        column's exact values over its bins (see
        :class:`TabularMLPClassifier`); None skips the test.
    parametric_activation : bool, default=False
        Whether each hidden unit learns the strength of its activation (see
        :class:`TabularMLPClassifier`).
    n_networks : int, default=3
        Number of networks trained from their own seeds whose outputs are
        averaged (see :class:`TabularMLPClassifier`): the predictions, or
        with ``loss="quantile"`` the outputs before the link that orders the
        quantiles, so that averaged quantiles still never cross.
    loss : {"squared_error", "quantile"}, default="squared_error"
        The loss of the standardised target: the squared error, or the
        pinball loss of the level(s) in ``quantile``. Standardising
        (subtracting the mean, dividing by the positive standard deviation)
        keeps every quantile a quantile, so predictions mapped back to the
        target's scale are quantiles of ``y``; ``loss_curve_`` stays on the
        standardised scale.
    quantile : float, list of float or None, default=None
        Level(s) in (0, 1) that ``loss="quantile"`` learns (required by it,
        refused by the other loss). A strictly increasing list trains one
        output per level in one network, and the predicted quantiles never
        cross (see :class:`MLPRegressor`).
    scoring : str, callable or None, default=None
        Validation score that selects the best epoch (None: R^2, or the
        validation loss for ``loss="quantile"``). ``score`` is R^2 whatever
        the loss. Several quantile levels predict one column per level,
        which sklearn's named scorers cannot compare with ``y``: they take
        None, ``'loss'`` or a callable.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, the validation split, shuffling and dropout.
    verbose : bool, default=False
        Print one line per epoch.

    Attributes
    ----------
    target_mean_, target_scale_ : ndarray of shape (n_outputs,)
        Standardisation of the target.
    target_min_, target_max_ : ndarray of shape (n_outputs,)
        Range of the training target; predictions are clipped to it.
    quantile_levels_ : ndarray of shape (n_levels,) or None
        The level(s) of ``loss="quantile"`` the model learned, in the order
        of ``predict``'s columns; None for the squared error.
    n_features_in_, feature_names_in_, is_categorical_, time_kinds_, categories_, one_hot_, \
numeric_center_, numeric_scale_, clip_, missing_indicator_, coefs_, intercepts_, \
input_scale_, embeddings_, best_validation_score_, n_iter_ : see \
:class:`TabularMLPClassifier`.
    estimators_ : list of TabularMLPRegressor
        With ``n_networks > 1``, the one-network members (see
        :class:`TabularMLPClassifier`).

    See Also
    --------
    TabularMLPClassifier : The classification counterpart.
    sklearn.ensemble.HistGradientBoostingRegressor : Boosted trees.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeep import TabularMLPRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = X[:, 0] - 2 * X[:, 1]
    >>> reg = TabularMLPRegressor(max_iter=10, random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    """

    _y_numeric = True
    _parameter_constraints: ClassVar[dict] = {
        **_BaseTabularMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "quantile"})],
        "quantile": _options.QUANTILE_CONSTRAINT,
    }

    def __init__(self, hidden_layer_sizes=(256, 256, 256), activation="mish", *,
                 learning_rate="coslog", learning_rate_init=0.2, max_iter="auto",
                 batch_size="auto", early_stopping=True, validation_fraction=0.2,
                 n_iter_no_change=64, stop_when_overfitting=True, dropout=0.15,
                 weight_decay=0.02, beta_1=0.9, beta_2=0.95,
                 scale_lr=6.0, clip=3.0, max_one_hot=8, embedding_dim=8,
                 numeric_embedding="periodic", piecewise_bins=32, piecewise_features=8,
                 value_embedding_min_count=4, value_embedding_min_gain=0.05,
                 parametric_activation=False, n_networks=3,
                 loss="squared_error", quantile=None, scoring=None, random_state=None,
                 verbose=False):
        self._set_params_from_init(locals())

    def _learn_target(self, y, classes):
        levels = _options.quantile_levels(self)  # a misplaced or missing quantile fails first
        y = _targets(y)
        mean, scale = target_standardisation(y)
        target = {
            "target_mean_": mean,
            "target_scale_": scale,
            "target_min_": y.min(axis=0),
            "target_max_": y.max(axis=0),
            "quantile_levels_": levels,
        }
        return quantile_columns(self, (y - mean) / scale, "y"), target

    def _encode_target(self, fitted, y, name):
        standardised = (_targets(y, name) - fitted.target_mean_) / fitted.target_scale_
        return quantile_columns(self, standardised, name)

    def _output_activation(self, target_attributes):
        return self._engine_loss().output_activation

    def _engine_loss(self):
        return _options.engine_loss(self, self.loss)

    def _decode_target(self, fitted, Y):
        y = Y * fitted.target_scale_ + fitted.target_mean_
        # Several quantile levels train on copies of one column.
        return y[:, 0] if y.shape[1] == 1 or fitted.out_activation_ != "identity" else y

    def _decode(self, fitted, logits):
        # The link orders the quantiles; a positive scale and the clip keep the order.
        standardised = inverse_link(fitted.out_activation_, logits)
        with np.errstate(over="ignore"):  # targets near the float range: the clip bounds them
            y = np.clip(standardised * fitted.target_scale_ + fitted.target_mean_,
                        fitted.target_min_, fitted.target_max_)
        return y[:, 0] if y.shape[1] == 1 else y

    def _split_stratify(self, Y):
        return None


    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _labels(y, name="y"):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = column_or_1d(y, warn=True)
    check_labels_present(y, name)
    kind = type_of_target(y, input_name=name, raise_unknown=True)
    if kind.startswith("multilabel") or y.ndim != 1:
        raise ValueError(f"{name} must be 1-D class labels; got shape {y.shape}.")
    if kind == "continuous":
        # As sklearn's classifiers: a float target is classes only if its values are whole.
        raise ValueError(
            f"Unknown label type of {name}: continuous. A classifier expects discrete "
            "classes, not a regression target with continuous values; use "
            "TabularMLPRegressor for those."
        )
    return y


def _targets(y, name="y"):
    y = check_array(y, ensure_2d=False, dtype=np.float64, input_name=name)
    return y.reshape(len(y), -1)
