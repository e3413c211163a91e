"""skdeep.dask.MLPClassifier and MLPRegressor: one network trained across a cluster.

They are skdeep's estimators (same parameters, docstrings, fitted
attributes, prediction code) with a ``fit`` that takes Dask collections: the
input description and the classes are learned from metadata and
``dask.array.unique``, the blocks are encoded on the workers
(``_blocks.py``), and the solvers of ``_solvers.py`` train on them. What a
fit commits is built exactly as an in-memory fit builds it.
"""

import copy
import itertools
import math

import dask
import dask.array as da
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array

from .. import _options
from .._classifier import _ATTRIBUTES as _CLASSIFIER_ATTRIBUTES
from .._classifier import MLPClassifier as _LocalClassifier
from .._classifier import _labels
from .._compat import _fit_context, with_callbacks
from .._docstrings import CLASSIFIER_WORDS, REGRESSOR_WORDS, fill_docstring
from .._fitted import Draft, is_fitted_attribute, training_state
from .._inputs import encode_inputs, learn_inputs
from .._regressor import _ATTRIBUTES as _REGRESSOR_ATTRIBUTES
from .._regressor import MLPRegressor as _LocalRegressor
from .._training import TrainingState, fit_lbfgs, fit_stochastic, prepare_lbfgs_loss
from .._validation import (
    TrainingData,
    can_hold_out,
    check_target_columns,
    check_validation_rows,
)
from ._blocks import BlockEncoder, BlockSet
from ._cluster import (
    as_dask_array,
    check_blocks,
    current_client,
    gather,
    short_sizes,
    worker_addresses,
)
from ._solvers import (
    BlockScorer,
    check_summable_scoring,
    DistributedEvaluator,
    DistributedObjective,
    ParameterAveraging,
    accuracy_from_sums,
    accuracy_sums,
    block_sizes,
    r2_from_sums,
    r2_sums,
)

__all__ = ["MLPClassifier", "MLPRegressor"]

def _is_dask_collection(data):
    return dask.is_dask_collection(data)


def _stub_inputs(X_original, X, n_rows):
    """``n_rows`` rows of zeros shaped like ``X``: what ``learn_inputs`` learns from.

    A DataFrame keeps its column names and numeric dtypes, so the fitted
    ``feature_names_in_`` and compute dtype are those of the real data.
    """
    meta = getattr(X_original, "_meta", None)
    if isinstance(meta, pd.DataFrame):
        return pd.DataFrame({
            name: np.zeros(n_rows, dtype=dtype if dtype.kind in "biuf" else float)
            for name, dtype in meta.dtypes.items()
        })
    return np.zeros((n_rows, X.shape[1]), dtype=X.dtype)


def _without_feature_names(fitted):
    """``fitted`` for the workers: names are checked on the client, blocks are arrays."""
    stub = copy.copy(fitted)
    stub.__dict__ = {k: v for k, v in fitted.__dict__.items() if k != "feature_names_in_"}
    return stub


def _predict_block(block, model, method, empty):
    # An empty row chunk (which fit accepts) has nothing to predict; sklearn's
    # validation would refuse its 0 rows.
    if block.shape[0] == 0:
        return empty
    return getattr(model, method)(block)


_FIT_DOC = """Fit the network on Dask collections, on the workers that hold them.

        The blocks of ``X``, ``y`` and ``sample_weight`` are encoded and kept
        on the workers of the current ``distributed`` client; only
        parameters, gradients and a few numbers travel to the client.

        Parameters
        ----------
        X : dask.array.Array or dask.dataframe.DataFrame of shape \
(n_samples, n_features)
            Training data, split along rows only (one column chunk) with
            known chunk sizes.
        y : dask.array.Array or dask Series of shape (n_samples,) or \
(n_samples, n_outputs)
            Targets, with the row chunks of ``X``.
        sample_weight : dask.array.Array of shape (n_samples,), default=None
            Sample weights, with the row chunks of ``X``.
        X_val, y_val, sample_weight_val : dask arrays, default=None
            An explicit validation set (the stochastic solvers score it after
            each epoch; with ``early_stopping=True`` it replaces the
            per-block ``validation_fraction`` split).

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            Without a client or workers, for chunks of unknown size, blocks
            of ``X`` and ``y`` that do not line up, or ``X`` split along its
            columns; each message says what to change.
        """


class _DistributedMLP:
    """What the Dask estimators add to skdeep's: a distributed fit, lazy predictions.

    Mixed in front of :class:`skdeep.MLPClassifier` / :class:`skdeep.MLPRegressor`,
    whose parameters (and ``__init__``), hooks and NumPy prediction path it
    keeps. Subclasses name their in-memory twin in ``_local_class``.
    """

    _local_class = None

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    @with_callbacks
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val must be passed together.")
        self._check_supported_settings()
        client = current_client()
        addresses = worker_addresses(client)
        fit_args = (X, y, sample_weight)
        data = self._training_arrays(X, y, sample_weight)
        continuing = "coefs_" in self.__dict__ and self.warm_start
        draft = Draft(self, self.__dict__ if continuing else {})
        stub, counts = self._learn_description(draft, client, X, data[0], data[1])
        random_state = check_random_state(self.random_state)
        network = self._network(draft, stub, random_state)
        if self.solver == "lbfgs":
            # As fit_lbfgs sets it, before the workers copy the loss.
            prepare_lbfgs_loss(network, self.lbfgs_objective)
        else:
            self._monitor_stochastic_loss(network)
        validation = None if X_val is None else (X_val, y_val, sample_weight_val)
        result = self._train_on_cluster(
            client, addresses, draft, network, self._worker_copy(draft, counts), data,
            validation, random_state, fit_args,
        )
        return self._commit(draft, network, result, stub, incremental=False)

    def _train_on_cluster(self, client, addresses, draft, network, worker_copy, data,
                          validation, random_state, fit_args):
        """Encode the blocks on the workers, run the solver on them, let them go."""
        stochastic = self.solver != "lbfgs"
        holds_out = stochastic and validation is None and self.early_stopping
        if stochastic and (holds_out or validation is not None):
            self._check_block_scoring()
        # Drawn after the initial weights, where an in-memory fit draws its split.
        seeds = None
        if holds_out:
            seeds = random_state.randint(np.iinfo(np.int32).max, size=data[0].numblocks[0])
        encoder = BlockEncoder(worker_copy, _without_feature_names(draft.as_estimator()),
                               network.dtype, self.validation_fraction if holds_out else None)
        blocks = BlockSet.prepare(client, addresses, encoder, *data, seeds)
        validation_blocks = None
        try:
            if stochastic and validation is not None:
                validation_blocks = self._validation_blocks(client, addresses, encoder,
                                                            validation, data[0], data[1])
            n_train, total_weight, n_held_out, _ = block_sizes(blocks)
            if total_weight <= 0:
                raise ValueError("The sample weights of the training rows sum to zero: "
                                 "there is nothing to fit.")
            if holds_out and n_held_out == 0:
                raise ValueError(self._too_small_blocks(data[0]))
            if not stochastic:
                return self._fit_lbfgs(draft, network, blocks, total_weight, fit_args)
            held_out = validation_blocks or (blocks if holds_out else None)
            return self._fit_rounds(draft, network, blocks, held_out, worker_copy, n_train,
                                    random_state, fit_args)
        finally:
            blocks.release()
            if validation_blocks is not None:
                validation_blocks.release()

    fit.__doc__ = _FIT_DOC

    def _check_supported_settings(self):
        if self.categorical_features is not None:
            raise ValueError(
                "skdeep.dask estimators train on numeric blocks: categorical_features "
                "must be None. Encode categories as numbers (e.g. dask-ml's "
                "OrdinalEncoder) before fit."
            )

    def _too_small_blocks(self, X):
        """The error of an early stopping that no row block could hold rows out for."""
        rows = next(n for n in itertools.count(3) if can_hold_out(n, self.validation_fraction))
        return (
            f"Early stopping holds out validation_fraction={self.validation_fraction} of each "
            f"row block of X (at least 2 rows, keeping one to train), which needs blocks of "
            f"{rows} rows or more; X has row chunks {short_sizes(X.chunks[0])}. Rechunk X "
            "and y into larger blocks, or pass X_val and y_val."
        )

    def _check_block_scoring(self):
        """The validation score is summed over blocks: accuracy, R^2 or the loss."""
        check_summable_scoring(self, "block")

    def _training_arrays(self, X, y, sample_weight):
        """``X``, ``y``, ``sample_weight`` as Dask arrays with aligned row blocks."""
        X = as_dask_array(X, "X")
        y = as_dask_array(y, "y")
        if sample_weight is not None and not _is_dask_collection(sample_weight):
            # Weights already in the client's memory: split them like X.
            sample_weight = np.asarray(sample_weight)
            if not any(math.isnan(c) for c in X.chunks[0]) and len(sample_weight) == X.shape[0]:
                sample_weight = da.from_array(sample_weight, chunks=(X.chunks[0],))
        if sample_weight is not None:
            sample_weight = as_dask_array(sample_weight, "sample_weight")
        check_blocks(X, y, sample_weight)
        return X, y, sample_weight

    def _learn_description(self, draft, client, X_original, X, y):
        """The fitted input and target attributes, learned without the data.

        Returns a :class:`TrainingData` of a few rows of zeros and encoded
        targets (the shapes and dtypes the network is built for), and the
        class counts (classifier) or None.
        """
        y_sample, counts = self._target_sample(client, y)
        X_stub = _stub_inputs(X_original, X, len(y_sample))
        if draft.fresh:
            X_stub, y_sample, draft.fitted = learn_inputs(
                self, X_stub, y_sample, None, self._y_numeric
            )
            Y, target = self._learn_target(y_sample, None)
            draft.fitted.update(target)
            dtype = X_stub.dtype
        else:
            X_stub, y_sample = encode_inputs(self, X_stub, y_sample, self._y_numeric)
            Y = self._encode_target(self, y_sample, "y")
            dtype = draft.previous["coefs_"][0].dtype
        X_stub = np.asarray(X_stub, dtype=dtype)
        Y = np.asarray(Y, dtype=self._target_dtype(dtype))
        return TrainingData(X_stub, Y), counts

    def _validation_blocks(self, client, addresses, encoder, validation, X, y):
        """The blocks of an explicit validation set, every row held out."""
        X_val, y_val, sample_weight_val = validation
        X_val, y_val = as_dask_array(X_val, "X_val"), as_dask_array(y_val, "y_val")
        check_validation_rows(X_val)
        if sample_weight_val is not None:
            sample_weight_val = as_dask_array(sample_weight_val, "sample_weight_val")
        check_blocks(X_val, y_val, sample_weight_val, ("X_val", "y_val", "sample_weight_val"))
        if X_val.shape[1] != X.shape[1]:
            raise ValueError(f"X_val has {X_val.shape[1]} features, but X has {X.shape[1]}.")
        if self._y_numeric:
            check_target_columns(y_val, y)
        self._check_validation_target(client, y_val, encoder.fitted)
        return BlockSet.prepare(client, addresses, encoder, X_val, y_val, sample_weight_val,
                                validation_only=True)

    def _check_validation_target(self, client, y_val, fitted):
        """Hook: the classifier checks that ``y_val`` has only known classes."""

    def _worker_copy(self, draft, counts):
        """An unfitted copy of this estimator for the workers' encoding and updates."""
        return clone(self)

    def _fit_lbfgs(self, draft, network, blocks, total_weight, fit_args):
        observers = self._observers(draft, fit_args, self.max_iter + 1, "lbfgs-iter")
        state = TrainingState(t=draft.previous.get("t_", 0))
        objective = DistributedObjective(blocks, network, self.alpha, total_weight)
        return fit_lbfgs(network, objective, _options.lbfgs_config(self), state,
                         observers=observers)

    def _fit_rounds(self, draft, network, blocks, held_out, worker_copy, n_train,
                    random_state, fit_args):
        early_stopping = _options.uses_early_stopping(self, False)
        config = _options.stochastic_config(self, n_train, False)
        evaluate = None
        if held_out is not None:
            outputs = {"out_activation_": network.output_activation,
                       "n_outputs_": network.layer_units[-1]}
            scorer = BlockScorer(worker_copy, _without_feature_names(draft.as_estimator(outputs)))
            evaluate = DistributedEvaluator(held_out, network, scorer,
                                            self._monitored_scoring() == "loss")
        rounds = ParameterAveraging(blocks, network, worker_copy, config, n_train, random_state)
        return fit_stochastic(
            network,
            _options.optimizer_for(self, network),
            _options.schedule_for(self),
            rounds,
            config,
            training_state(draft.previous, early_stopping),
            random_state,
            evaluate=evaluate,
            observers=self._observers(draft, fit_args, self.max_iter, "epoch"),
        )

    def _check_solver(self):
        raise AttributeError(
            "partial_fit is not available on skdeep.dask estimators: fit trains on the "
            "whole Dask array. For block-by-block training use skdeep.MLPClassifier / "
            "MLPRegressor with dask_ml.wrappers.Incremental."
        )

    # ------------------------------------------------------------------
    # Prediction and conversion
    # ------------------------------------------------------------------
    def to_local(self):
        """This fitted model as a plain skdeep estimator (no Dask needed to use it).

        Returns
        -------
        estimator : skdeep.MLPClassifier or skdeep.MLPRegressor
            Same parameters, copies of the same fitted attributes, and so
            identical predictions.
        """
        model = self._snapshot()
        local = self._local_class(**self.get_params())
        local.__dict__.update(
            {k: copy.deepcopy(v) for k, v in model.__dict__.items() if is_fitted_attribute(k)}
        )
        return local

    def _lazy_rows(self, method, X, n_columns, dtype):
        """``method`` of the local model on each row block of ``X``, as a Dask array."""
        model = self.to_local()
        if not isinstance(X, da.Array):
            self._check_column_names(model, X)
            X = X.to_dask_array()
        if X.ndim == 2 and len(X.chunks[1]) > 1:
            X = X.rechunk({1: -1})  # each block must hold whole rows
        # One copy of the model in the graph, shared by every block's task.
        shared_model = dask.delayed(model)
        if n_columns is None:
            empty = np.empty((0,), dtype=dtype)
            return X.map_blocks(_predict_block, shared_model, method, empty, drop_axis=1,
                                dtype=dtype, meta=empty)
        empty = np.empty((0, n_columns), dtype=dtype)
        return X.map_blocks(_predict_block, shared_model, method, empty,
                            chunks=(X.chunks[0], (n_columns,)), dtype=dtype,
                            meta=np.empty((0, 0), dtype=dtype))

    @staticmethod
    def _check_column_names(model, X):
        names = getattr(model, "feature_names_in_", None)
        columns = np.asarray(list(X.columns), dtype=object)
        if names is not None and not np.array_equal(columns, names):
            raise ValueError(
                f"The DataFrame's columns {list(columns)} are not those seen in fit "
                f"{list(names)}."
            )

    def _output_dtype(self):
        return self._snapshot().coefs_[0].dtype

    def predict(self, X):
        """Predict with the fitted network.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, dask DataFrame} of shape \
(n_samples, n_features)
            The input data. A Dask collection is predicted block by block on
            the workers, lazily.

        Returns
        -------
        y : ndarray or dask.array.Array of shape (n_samples,) or (n_samples, n_outputs)
            Class labels or predicted values; a Dask array (chunked like
            ``X``'s rows) for Dask input.
        """
        if _is_dask_collection(X):
            return self._lazy_predict(X)
        return super().predict(X)


class _DaskClassifierHooks:
    """Targets of the distributed classifier: labels learned by ``da.unique``."""

    def _target_sample(self, client, y):
        if y.ndim == 2:
            if y.shape[1] != 1:
                raise ValueError(
                    "skdeep.dask.MLPClassifier trains on 1-D class labels; multilabel "
                    f"targets (y of shape {y.shape}) are not supported."
                )
            y = y[:, 0]
        labels, counts = gather(client, [client.compute(da.unique(y, return_counts=True))])[0]
        return np.asarray(labels), dict(zip(labels.tolist(), counts.tolist()))

    def _encode_block_target(self, fitted, y):
        return fitted._label_binarizer.transform(_labels(y))

    def _worker_copy(self, draft, counts):
        copy_ = clone(self)
        if self.class_weight == "balanced":
            # "balanced" depends on the class counts of all of y, not of one block.
            n_samples, n_classes = sum(counts.values()), len(counts)
            copy_.class_weight = {c: n_samples / (n_classes * n) for c, n in counts.items()}
        return copy_

    def _check_validation_target(self, client, y_val, fitted):
        labels = gather(client, [client.compute(da.unique(y_val))])[0]
        unknown = np.setdiff1d(labels, fitted.classes_)
        if len(unknown):
            raise ValueError(f"y_val has classes not seen in y: {unknown}.")

    def _score_sums(self, y_true, y_pred, weights):
        return accuracy_sums(y_true, y_pred, weights)

    def _score_from_sums(self, sums):
        return accuracy_from_sums(sums)

    def _lazy_predict(self, X):
        return self._lazy_rows("predict", X, None, self._snapshot().classes_.dtype)

    def predict_logits(self, X):
        """Output-layer logits (lazily, block by block, for Dask input).

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, dask DataFrame} of shape \
(n_samples, n_features)
            The input data.

        Returns
        -------
        logits : ndarray or dask.array.Array of shape (n_samples,) or (n_samples, n_outputs)
            As :meth:`skdeep.MLPClassifier.predict_logits`.
        """
        if _is_dask_collection(X):
            n_outputs = self._snapshot().n_outputs_
            return self._lazy_rows("predict_logits", X, None if n_outputs == 1 else n_outputs,
                                   self._output_dtype())
        return super().predict_logits(X)

    def predict_proba(self, X):
        """Probability estimates (lazily, block by block, for Dask input).

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, dask DataFrame} of shape \
(n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray or dask.array.Array of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``.
        """
        if _is_dask_collection(X):
            return self._lazy_rows("predict_proba", X, len(self._snapshot().classes_),
                                   self._output_dtype())
        return super().predict_proba(X)

    def predict_log_proba(self, X):
        """Log-probability estimates (lazily, block by block, for Dask input).

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array, dask DataFrame} of shape \
(n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray or dask.array.Array of shape (n_samples, n_classes)
            Log-probability of each class, in the order of ``classes_``.
        """
        if _is_dask_collection(X):
            return self._lazy_rows("predict_log_proba", X, len(self._snapshot().classes_),
                                   self._output_dtype())
        return super().predict_log_proba(X)


class _DaskRegressorHooks:
    """Targets of the distributed regressor: encoded block by block on the workers."""

    def _target_sample(self, client, y):
        return np.zeros((2, *y.shape[1:])), None

    def _encode_block_target(self, fitted, y):
        # The in-memory fit checks y with X (check_X_y); a block's y comes alone.
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        return self._encode_target(fitted, y, "y")

    def _score_sums(self, y_true, y_pred, weights):
        return r2_sums(y_true, y_pred, weights)

    def _score_from_sums(self, sums):
        return r2_from_sums(sums)

    def _lazy_predict(self, X):
        n_outputs = self._snapshot().n_outputs_
        return self._lazy_rows("predict", X, None if n_outputs == 1 else n_outputs,
                               self._output_dtype())


_CLASS_DOC = """{summary}

    The parameters, fitted attributes and predictions of
    :class:`skdeep.{name}`; ``fit`` takes Dask arrays or DataFrames and
    trains on the workers of the current ``distributed`` client, where the
    blocks stay. ``solver="lbfgs"`` minimises exactly the in-memory
    objective (the loss and gradient are sums of per-block sums); ``"adam"``
    and ``"sgd"`` (and skdeep's other stochastic solvers) train by periodic
    parameter averaging, one round per epoch. See the user guide's
    "Data-parallel training" section.

    Parameters
    ----------
    {{parameters}}

    Attributes
    ----------
    {{attributes}}

    See Also
    --------
    skdeep.{name} : The in-memory estimator (``to_local()`` returns one).

    Notes
    -----
    Compared with an in-memory fit of the stochastic solvers, one epoch
    makes ``n_workers`` times fewer sequential updates: each worker steps
    through its own rows from the round's parameters, and the round's
    result is the row-weighted average of the workers' parameters and
    optimizer state (Adam's moments, SGD's velocity). Mini-batches never
    mix two blocks; schedules, the plateau rule and early stopping act
    between rounds, and early stopping holds out ``validation_fraction`` of
    each block (reproducibly, from ``random_state``; a block too small to
    split trains on all its rows). A block whose sample weights are all
    zero counts as empty, and errors in a block's data name the block. A
    fit is reproducible
    for a fixed ``random_state``, chunking and number of workers.
    Categorical columns, multilabel targets, ``partial_fit`` and scorers
    other than the default score or ``"loss"`` are not supported.

    Examples
    --------
    Needs a running cluster, so it is not run here (``tests/test_dask_training.py``
    runs it):

    >>> import dask.array as da                            # doctest: +SKIP
    >>> from distributed import Client                     # doctest: +SKIP
    >>> from skdeep.dask import {name}                      # doctest: +SKIP
    >>> client = Client(n_workers=2)                       # doctest: +SKIP
    >>> X = da.random.random((100_000, 10), chunks=(10_000, -1))  # doctest: +SKIP
    >>> y = {target}                                        # doctest: +SKIP
    >>> model = {name}(solver="lbfgs", random_state=0).fit(X, y)  # doctest: +SKIP
    >>> model.predict(X)                                   # doctest: +SKIP
    dask.array<...>
    """


@fill_docstring(_CLASSIFIER_ATTRIBUTES, CLASSIFIER_WORDS)
class MLPClassifier(_DaskClassifierHooks, _DistributedMLP, _LocalClassifier):
    __doc__ = _CLASS_DOC.format(
        summary="Multi-layer perceptron classifier trained across a Dask cluster.",
        name="MLPClassifier", target="(X[:, 0] > 0.5).astype(int)",
    )
    _local_class = _LocalClassifier


@fill_docstring(_REGRESSOR_ATTRIBUTES, REGRESSOR_WORDS)
class MLPRegressor(_DaskRegressorHooks, _DistributedMLP, _LocalRegressor):
    __doc__ = _CLASS_DOC.format(
        summary="Multi-layer perceptron regressor trained across a Dask cluster.",
        name="MLPRegressor", target="X.sum(axis=1)",
    )
    _local_class = _LocalRegressor
