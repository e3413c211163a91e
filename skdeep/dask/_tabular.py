"""skdeep.dask.TabularMLPClassifier and TabularMLPRegressor: raw tables on a cluster.

They are skdeep's tabular estimators (same parameters, docstrings, fitted
attributes and prediction code) with a ``fit`` that takes a Dask DataFrame
of raw columns. A fit reads each partition twice where a worker computes
it: once to summarise it (``_table_inputs.py`` learns the encoding from the
summaries), once to encode it and keep it there (``_members.py``); then the
members of the ensemble train by rounds of the in-memory epoch on the
workers, averaged on the client. What a fit commits is built by the
in-memory estimator's own code.
"""

import copy
import itertools
import uuid
from dataclasses import dataclass

import dask
import dask.dataframe as dd
import numpy as np
from sklearn.base import clone

from .. import _options
from .._base import explicit_validation
from .._compat import StrOptions, _fit_context, with_callbacks
from .._engine.parallel import one_blas_thread
from .._engine.preprocessing import target_shrink
from .._fitted import Draft, is_fitted_attribute
from .._inputs import with_state
from .._member_training import fit_members
from .._tabular import TabularMLPClassifier as _LocalClassifier
from .._tabular import TabularMLPRegressor as _LocalRegressor
from .._tabular import _labels, _targets
from .._validation import TrainingData, can_hold_out
from ._cluster import current_client, worker_addresses
from ._members import (
    MemberEvaluation,
    MemberRounds,
    MemberSteps,
    NetworkRecipe,
    PartitionEncoder,
    build_group,
    encode_partition,
    group_sizes,
    group_value_tables,
    rows_of,
)
from ._partitions import Kept, Partitions, as_frame
from ._solvers import (
    BlockScorer,
    check_summable_scoring,
    accuracy_from_sums,
    accuracy_sums,
    r2_from_sums,
    r2_sums,
)
from ._summaries import GroupMoments
from ._table_inputs import learn_bins, learn_table_inputs, scan_partition, table_spec

__all__ = ["TabularMLPClassifier", "TabularMLPRegressor"]

#: Rows of each member's sample for the data-dependent initialisation.
_INIT_ROWS = 2048


def _distinct_positions(random_state, n, size):
    """``size`` distinct integers in ``[0, n)``, sorted, in O(size) memory (Floyd's method)."""
    chosen = set()
    for top in range(n - size, n):
        draw = int(random_state.randint(top + 1))
        chosen.add(top if draw in chosen else draw)
    return np.array(sorted(chosen), dtype=np.int64)


def _predict_partition(part, model, method, empty):
    # An empty partition (which fit skips) has nothing to predict; the
    # in-memory validation would refuse its 0 rows.
    if len(part) == 0:
        return empty
    return getattr(model, method)(part)


def _score_partition(part, y, weights, model, score_sums):
    """A partition's score sums (as validation sums them), from the local model."""
    if len(part) == 0:
        return None
    weights = None if weights is None else np.asarray(weights, dtype=float)
    return score_sums(np.asarray(y), model.predict(part), weights)


_FIT_DOC = """Fit the ensemble on a Dask DataFrame of raw columns, on the workers that hold it.

        Each partition of ``X`` (with its partitions of ``y`` and
        ``sample_weight``) is read where a worker computes it: once to learn
        the input encoding from summaries, once to encode it and keep it on
        that worker for training. Only summaries, parameters and a few
        numbers travel to the client.

        Parameters
        ----------
        X : dask.dataframe.DataFrame of shape (n_samples, n_features)
            Raw input: numeric, boolean, date-time, category and string
            columns, NaN anywhere. (A 2-D Dask array is taken as a
            DataFrame of its columns.)
        y : Dask Series, DataFrame or array of shape (n_samples,) or \
(n_samples, n_outputs)
            Class labels or target values, partitioned like ``X`` (partition
            ``i`` holds the rows of partition ``i`` of ``X``).
        sample_weight : Dask Series or array of shape (n_samples,), default=None
            Sample weights, partitioned like ``X``.
        X_val, y_val, sample_weight_val : Dask collections, default=None
            An explicit validation set, partitioned alike: every network
            chooses its best epoch on it instead of on its own
            ``validation_fraction`` of every partition.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            Without a client or workers; for ``y`` (or ``sample_weight``)
            not partitioned like ``X`` (other partition counts, divisions,
            lengths or index); for a column whose dtype differs between
            partitions; for a target with missing values; for settings that
            cannot be computed partition by partition. Errors found in one
            partition name it.
        """


class _DistributedTabular:
    """What the Dask tabular estimators add: a fit on the cluster, lazy predictions.

    Mixed in front of :class:`skdeep.TabularMLPClassifier` /
    :class:`skdeep.TabularMLPRegressor`, whose parameters, hooks and
    prediction path it keeps. Subclasses name their in-memory twin in
    ``_local_class``.
    """

    _local_class = None

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    @with_callbacks
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        validation = explicit_validation(X_val, y_val, sample_weight_val)
        self._check_block_scoring()
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        client = current_client()
        addresses = worker_addresses(client)
        parts = Partitions(as_frame(X), y, sample_weight)
        draft = Draft(self, {})
        learned = self._learn_inputs(client, addresses, parts)
        draft.fitted = learned.state
        parts.split_weights(learned.partition_rows)
        random_states, seeds = self._member_random_states()
        training = self._training_groups(client, addresses, draft, parts, learned,
                                         random_states, holds_out=validation is None)
        try:
            if validation is not None:
                training.held_out = self._validation_groups(client, addresses,
                                                            training.encoder, validation, parts)
            network, sample = self._initialised_network(draft, training, random_states)
            progress = self._train(draft, training, network, random_states, (X, y, sample_weight))
        finally:
            training.release()
        return self._commit(draft, network, progress, seeds, sample, training.n_train)

    fit.__doc__ = _FIT_DOC

    def _training_groups(self, client, addresses, draft, parts, learned, random_states,
                         holds_out):
        """The training partitions encoded on the workers, one :class:`_Training` group each.

        With early stopping (and no explicit validation data) every member
        holds out its own rows of each partition, from seeds its random
        state draws (where an in-memory fit draws its split). The quantile
        bins, part of the input state, are learned here from the encoded
        values.
        """
        holds_out = holds_out and bool(self.early_stopping)
        split_seeds = None
        if holds_out:
            split_seeds = np.array([rs.randint(np.iinfo(np.int32).max, size=len(parts))
                                    for rs in random_states]).T
        worker_copy = self._worker_copy(learned.target)
        encoder = PartitionEncoder(
            worker_copy, with_state(worker_copy, draft.fitted), np.float32, len(random_states),
            self.validation_fraction if holds_out else None, bool(self.piecewise_bins))
        groups, tables = self._encode(client, addresses, encoder, parts, split_seeds,
                                      np.maximum(learned.partition_rows, 1), "training data")
        training = _Training(groups, None, encoder, worker_copy)
        try:
            self._learn_bins(tables, draft)
            training.keep_sizes()
            self._check_sizes(training, holds_out, learned.partition_rows)
        except BaseException:
            training.release()
            raise
        if holds_out:
            training.held_out = training.groups
        return training

    def _train(self, draft, training, network, random_states, fit_args):
        """Train every member on the workers' groups; their progress."""
        recipe = training.groups.share(NetworkRecipe(
            training.worker_copy, draft.fitted, len(random_states), network.layers[0].n_inputs,
            network.layer_units[-1], network.dtype))
        optimizer = self._optimizer(network)
        runner = self._runner(training, recipe, network, optimizer, random_states)
        evaluate = None
        if training.held_out is not None:
            evaluate = MemberEvaluation(training.held_out, recipe,
                                        self._block_scorer(draft, network),
                                        self._monitored_scoring() == "loss")
        try:
            return fit_members(
                network, optimizer, self._schedule(training.n_train), None,
                self._member_config(training.n_train), random_states, evaluate=evaluate,
                observers=self._observers(draft, fit_args, training.n_train), epochs=runner)
        finally:
            runner.close()

    def _runner(self, training, recipe, network, optimizer, random_states):
        """The epochs' steps on the workers: synchronous steps, or rounds averaged per epoch."""
        batch_size = self._batch_size(training.n_train)
        group_rows = [int(n) for n in training.sizes[:, 0]]
        if self.sync == "step":
            return MemberSteps(training.groups, recipe, network, optimizer,
                               self._schedule(training.n_train),
                               batch_size, group_rows, random_states, uuid.uuid4().hex)
        return MemberRounds(training.groups, recipe, network, optimizer,
                            self._schedule(training.n_train), batch_size, group_rows,
                            random_states)

    def _check_block_scoring(self):
        """The validation score is summed over partitions: the default score or the loss."""
        check_summable_scoring(self, "partition")

    def _learn_inputs(self, client, addresses, parts):
        """Scan every partition on the workers and learn the input encoding from them."""
        spec, attributes = table_spec(self, clone(self), parts.meta, parts.y_meta)
        scans = Kept.placed(client, addresses, np.ones(len(parts))).compute_each(
            scan_partition, [(i, X, y) for i, (X, y) in enumerate(zip(parts.X_parts,
                                                                         parts.y_parts))],
            spec)
        try:
            return learn_table_inputs(self, spec, attributes, scans)
        finally:
            scans.release()

    def _encode(self, client, addresses, encoder, parts, seeds, sizes, data_name):
        """Encode every partition on the workers, kept as one group per worker.

        Partitions are placed in runs balanced by ``sizes`` (their rows, when
        known). Returns the groups, and (with value tables) the workers'
        tables of the scaled numeric columns' values, for the bins.
        """
        placement = Kept.placed(client, addresses, np.asarray(sizes, dtype=float))
        items = [(f"partition {i} of the {data_name}", parts.X_parts[i], parts.y_parts[i],
                  parts.weight_parts[i], None if seeds is None else seeds[i])
                 for i in range(len(parts))]
        encoded = placement.compute_each(encode_partition, items, encoder)
        try:
            groups = encoded.submit_groups(build_group)
            tables = (encoded.submit_groups(group_value_tables) if encoder.value_tables
                      else None)
        finally:
            encoded.release()
        return groups, tables

    def _learn_bins(self, tables, draft):
        """The piecewise-linear encoding's quantile bins, from the workers' value tables."""
        if tables is None:
            return
        try:
            draft.fitted["bin_lower_"], draft.fitted["bin_inverse_width_"] = learn_bins(
                tables, self.piecewise_bins)
        finally:
            tables.release()

    def _check_sizes(self, training, holds_out, partition_rows):
        _, n_held_out, _, weight = training.sizes.sum(axis=0)
        if weight <= 0:
            raise ValueError("The sample weights of the training rows sum to zero: there is "
                             "nothing to fit.")
        if holds_out and n_held_out == 0:
            rows = next(n for n in itertools.count(3)
                        if can_hold_out(n, self.validation_fraction))
            raise ValueError(
                f"Early stopping holds out validation_fraction={self.validation_fraction} of "
                f"each partition of X (at least 2 rows, keeping one to train), which needs "
                f"partitions of {rows} rows or more; the partitions of X have "
                f"{_short(partition_rows)} rows. Repartition X and y into fewer, larger "
                "partitions, or pass X_val and y_val."
            )

    def _validation_groups(self, client, addresses, encoder, validation, parts):
        """The explicit validation set, encoded on the workers: every row held out."""
        X_val, y_val, sample_weight_val = validation
        X_val = as_frame(X_val, "X_val")
        if list(X_val.columns) != list(parts.meta.columns):
            raise ValueError(
                f"X_val has the columns {list(X_val.columns)}, but X has "
                f"{list(parts.meta.columns)}: validation data needs the columns of X."
            )
        self._check_validation_target(y_val, parts)
        if sample_weight_val is not None and not dask.is_dask_collection(sample_weight_val):
            raise TypeError(
                "sample_weight_val must be a Dask Series or array partitioned like X_val "
                f"(its partitions are not counted); got a {type(sample_weight_val).__name__}."
            )
        val_parts = Partitions(X_val, y_val, sample_weight_val,
                               names=("X_val", "y_val", "sample_weight_val"))
        val_encoder = copy.copy(encoder)
        val_encoder.value_tables = False
        val_encoder.target_name = "y_val"
        groups, _ = self._encode(client, addresses, val_encoder, val_parts,
                                 ["all"] * len(val_parts), np.ones(len(val_parts)),
                                 "validation data")
        try:
            sizes = np.array(groups.map_groups(group_sizes), dtype=float).reshape(-1, 4)
            groups = groups.subset(list(np.flatnonzero(sizes[:, 2] > 0)))
            if not sizes[:, 1].sum():
                raise ValueError(
                    "X_val has no rows; an explicit validation set needs at least one. Pass "
                    "X_val and y_val with rows, or neither."
                )
        except BaseException:
            groups.release()
            raise
        return groups

    def _check_validation_target(self, y_val, parts):
        """Hook: a regressor's ``y_val`` needs the columns of ``y``."""

    def _initialised_network(self, draft, training, random_states):
        """The network, initialised from each member's sample of the encoded rows.

        Returns the network and the sample of the first member (for the
        checks of the commit).
        """
        n_rows = training.sizes[:, 2].astype(int)
        n_total = int(n_rows.sum())
        size = min(_INIT_ROWS, n_total)
        starts = np.concatenate([[0], np.cumsum(n_rows)[:-1]])
        positions = [_distinct_positions(rs, n_total, size) for rs in random_states]
        per_group = []
        for start, n in zip(starts, n_rows):
            per_group.append(([p[(p >= start) & (p < start + n)] - start for p in positions],))
        answers = training.groups.map_groups(rows_of, per_group=per_group)
        X = np.stack([np.concatenate([a[m][0] for a in answers]) for m in range(len(positions))])
        Y = np.concatenate([a[0][1] for a in answers])
        network = self._empty_network(draft.fitted, len(random_states), X.shape[2], Y.shape[1],
                                      X.dtype)
        with one_blas_thread():  # initial weights independent of the thread count
            network.initialize(random_states, X)
        return network, TrainingData(X[0], Y)

    def _block_scorer(self, draft, network):
        outputs = {"out_activation_": network.output_activation,
                   "n_outputs_": network.layer_units[-1]}
        return BlockScorer(clone(self), draft.as_estimator(outputs))

    def _worker_copy(self, target):
        """An unfitted copy of this estimator for the workers' encoding and updates."""
        return clone(self)

    # ------------------------------------------------------------------
    # Prediction and conversion
    # ------------------------------------------------------------------
    def to_local(self):
        """This fitted model as the in-memory estimator (no Dask needed to use it).

        Returns
        -------
        estimator : skdeep.TabularMLPClassifier or skdeep.TabularMLPRegressor
            Same parameters, copies of the same fitted attributes (the
            members of an ensemble as in-memory estimators too), and so
            identical predictions.
        """
        model = self._snapshot()
        return _as_local(model, self._local_class)

    def _lazy_rows(self, method, X, n_columns, dtype):
        """``method`` of the local model on each partition of ``X``, as a Dask array."""
        model = self.to_local()
        named = isinstance(X, dd.DataFrame)
        X = as_frame(X)
        names = getattr(model, "feature_names_in_", None)
        if named and names is not None and list(X.columns) != list(names):
            raise ValueError(
                f"The DataFrame's columns {list(X.columns)} are not those seen in fit "
                f"{list(names)}."
            )
        if X.shape[1] != model.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is "
                             f"expecting {model.n_features_in_} features as input.")
        shape = (0,) if n_columns is None else (0, n_columns)
        empty = np.empty(shape, dtype=dtype)
        # One copy of the model in the graph, shared by every partition's task.
        return X.map_partitions(_predict_partition, dask.delayed(model), method, empty,
                                meta=empty)

    def predict(self, X):
        """Predict with the fitted ensemble.

        Parameters
        ----------
        X : dask.dataframe.DataFrame, DataFrame or array-like of shape \
(n_samples, n_features)
            Raw input in the layout of the training data. A Dask DataFrame
            is predicted partition by partition on the workers, lazily.

        Returns
        -------
        y : ndarray or dask.array.Array of shape (n_samples,) or (n_samples, n_outputs)
            Class labels or predicted values; for Dask input a Dask array
            with one chunk per partition (of unknown size until computed:
            ``.compute_chunk_sizes()``).
        """
        if dask.is_dask_collection(X):
            model = self._snapshot()
            return self._lazy_rows("predict", X, self._prediction_columns(model),
                                   self._prediction_dtype(model))
        return super().predict(X)

    def score(self, X, y, sample_weight=None):
        """The in-memory ``score`` (accuracy, or R^2); on Dask collections, from partition sums.

        Parameters
        ----------
        X : dask.dataframe.DataFrame, DataFrame or array-like
            Test samples.
        y : Dask or in-memory array-like
            True labels or values (partitioned like a Dask ``X``).
        sample_weight : Dask or in-memory array-like, default=None
            Sample weights.

        Returns
        -------
        score : float
        """
        if not dask.is_dask_collection(X):
            return super().score(X, y, sample_weight)
        client = current_client()
        model = self.to_local()
        if sample_weight is not None and not dask.is_dask_collection(sample_weight):
            raise TypeError(
                "With a Dask X, score takes sample_weight as a Dask Series or array "
                f"partitioned like X; got a {type(sample_weight).__name__}."
            )
        parts = Partitions(as_frame(X), y, sample_weight)
        shared = dask.delayed(model)
        sums = dask.compute(*[
            dask.delayed(_score_partition)(X_part, y_part, w_part, shared, self._score_sums)
            for X_part, y_part, w_part in zip(parts.X_parts, parts.y_parts, parts.weight_parts)
        ], scheduler=client.get)
        return self._score_from_sums(np.sum([s for s in sums if s is not None], axis=0))


@dataclass
class _Training:
    """The encoded training data of a fit on the workers, and what goes with it.

    Attributes
    ----------
    groups : Kept
        One :class:`~skdeep.dask._members.MemberGroup` future per worker.
    sizes : ndarray of shape (n_groups, 4)
        Per group: training rows, held-out rows, rows, training weight.
    encoder : PartitionEncoder
        How the partitions were encoded (validation data is encoded alike).
    worker_copy : estimator instance
        The unfitted copy of the estimator the workers use.
    held_out : Kept or None
        The groups whose held-out rows score every epoch: the training
        groups, those of an explicit validation set, or None.
    """

    groups: object
    sizes: np.ndarray
    encoder: object
    worker_copy: object
    held_out: object = None

    def keep_sizes(self):
        """Measure the groups, and let go of those that hold no rows."""
        sizes = np.array(self.groups.map_groups(group_sizes), dtype=float).reshape(-1, 4)
        self.groups = self.groups.subset(list(np.flatnonzero(sizes[:, 2] > 0)))
        self.sizes = sizes[sizes[:, 2] > 0]

    @property
    def n_train(self):
        """Training rows of each member."""
        return int(self.sizes[:, 0].sum())

    def release(self):
        if self.held_out is not None and self.held_out is not self.groups:
            self.held_out.release()
        self.groups.release()


def _short(sizes, shown=6):
    sizes = [int(n) for n in sizes]
    if len(sizes) <= shown:
        return str(tuple(sizes))
    return f"({', '.join(map(str, sizes[:shown]))}, ... {len(sizes)} partitions)"


#: The parameters of the Dask estimators that the in-memory ones do not have.
_DISTRIBUTED_PARAMETERS = ("sync",)

_SYNC_CONSTRAINT = [StrOptions({"step", "epoch"})]


def _as_local(model, local_class):
    """A fitted Dask tabular model as the in-memory ``local_class``, members included."""
    local = local_class(**{name: value for name, value in model.get_params().items()
                           if name not in _DISTRIBUTED_PARAMETERS})
    for key, value in model.__dict__.items():
        if not is_fitted_attribute(key):
            continue
        if key == "estimators_":
            value = [_as_local(member, local_class) for member in value]
        else:
            value = copy.deepcopy(value)
        local.__dict__[key] = value
    return local


# --------------------------------------------------------------------------
# The task hooks: targets summarised on the workers
# --------------------------------------------------------------------------


@dataclass
class LabelScan:
    """A partition's (or a run's) labels: classes, counts, and each row's class index."""

    classes: np.ndarray
    counts: np.ndarray
    codes: np.ndarray = None


@dataclass
class ValueScan:
    """A partition's target values, or the merged range of several partitions'."""

    n: int
    low: np.ndarray
    high: np.ndarray
    values: np.ndarray = None


def _target_moments(shrink, scans):
    """Mean and sum of squared deviations of a worker's targets (times ``shrink``)."""
    moments = None
    for scan in scans:
        if scan.n_rows == 0:
            continue
        values = scan.target.values * shrink
        part = GroupMoments.of(np.zeros(len(values), dtype=np.intp), values, 1)
        moments = part if moments is None else moments.merged(part)
    return moments


class _ClassifierHooks:
    """Labels: classes and counts merged from the partitions."""

    def _scan_target(self, y):
        labels = _labels(y)
        classes, codes, counts = np.unique(labels, return_inverse=True, return_counts=True)
        return LabelScan(classes, counts, codes.reshape(-1))

    def _merge_target_scans(self, scans):
        scans = [s for s in scans if len(s.classes)]
        classes, inverse = np.unique(np.concatenate([s.classes for s in scans]),
                                     return_inverse=True)
        counts = np.bincount(inverse.reshape(-1),
                             weights=np.concatenate([s.counts for s in scans]))
        return LabelScan(classes, np.rint(counts).astype(np.int64))

    def _learn_scanned_target(self, target, scans):
        if len(target.classes) < 2:
            raise ValueError(
                f"The target has {len(target.classes)} class; a classifier needs at least 2."
            )
        return {"classes_": target.classes}

    def _scan_target_rows(self, fitted, scan):
        index = np.searchsorted(fitted.classes_, scan.classes)[scan.codes]
        return np.eye(len(fitted.classes_))[index]

    def _worker_copy(self, target):
        copy_ = clone(self)
        if self.class_weight == "balanced":
            # "balanced" depends on the class counts of all of y, not of one partition.
            n_samples, n_classes = int(target.counts.sum()), len(target.classes)
            copy_.class_weight = {c: n_samples / (n_classes * n)
                                  for c, n in zip(target.classes.tolist(),
                                                  target.counts.tolist())}
        return copy_

    def _score_sums(self, y_true, y_pred, weights):
        return accuracy_sums(y_true, y_pred, weights)

    def _score_from_sums(self, sums):
        return accuracy_from_sums(sums)

    @staticmethod
    def _prediction_columns(model):
        return None

    @staticmethod
    def _prediction_dtype(model):
        return model.classes_.dtype

    def predict_proba(self, X):
        """Probability of each class, in the order of ``classes_``.

        Parameters
        ----------
        X : dask.dataframe.DataFrame, DataFrame or array-like of shape \
(n_samples, n_features)
            Raw input in the layout of the training data; a Dask DataFrame
            is predicted lazily, partition by partition.

        Returns
        -------
        proba : ndarray or dask.array.Array of shape (n_samples, n_classes)
        """
        if dask.is_dask_collection(X):
            return self._lazy_rows("predict_proba", X, len(self._snapshot().classes_),
                                   np.float64)
        return super().predict_proba(X)


class _RegressorHooks:
    """Target values: range and moments merged from the partitions."""

    def _scan_target(self, y):
        values = _targets(y)
        if not len(values):
            return ValueScan(0, np.full(values.shape[1], np.inf), np.full(values.shape[1],
                                                                          -np.inf), values)
        return ValueScan(len(values), values.min(axis=0), values.max(axis=0), values)

    def _merge_target_scans(self, scans):
        scans = [s for s in scans if s.n]
        return ValueScan(sum(s.n for s in scans), np.min([s.low for s in scans], axis=0),
                         np.max([s.high for s in scans], axis=0))

    def _learn_scanned_target(self, target, scans):
        levels = _options.quantile_levels(self)
        shrink = target_shrink(np.maximum(np.abs(target.low), np.abs(target.high)))
        parts = [p for p in scans.map_groups(_target_moments, shrink) if p is not None]
        moments = parts[0]
        for part in parts[1:]:
            moments = moments.merged(part)
        mean = moments.means[0] / shrink
        scale = np.sqrt(moments.m2[0] / moments.counts[0]) / shrink
        scale[scale == 0] = 1.0
        return {"target_mean_": mean, "target_scale_": scale, "target_min_": target.low,
                "target_max_": target.high, "quantile_levels_": levels}

    def _scan_target_rows(self, fitted, scan):
        return self._encode_target(fitted, scan.values, "y")

    def _score_sums(self, y_true, y_pred, weights):
        return r2_sums(y_true, y_pred, weights)

    def _score_from_sums(self, sums):
        return r2_from_sums(sums)

    def _check_validation_target(self, y_val, parts):
        y_meta = getattr(y_val, "_meta", None)
        if y_meta is not None and parts.y_meta is not None and (
                np.ndim(y_meta) != np.ndim(parts.y_meta)
                or (np.ndim(y_meta) == 2 and y_meta.shape[1] != parts.y_meta.shape[1])):
            raise ValueError(
                f"y_val has {1 if np.ndim(y_meta) == 1 else y_meta.shape[1]} column(s) but y "
                f"has {1 if np.ndim(parts.y_meta) == 1 else parts.y_meta.shape[1]}: a "
                "validation target needs the columns of y."
            )

    @staticmethod
    def _prediction_columns(model):
        n_outputs = len(model.target_mean_)
        levels = model.quantile_levels_
        n = n_outputs if levels is None or len(levels) == 1 else len(levels)
        return None if n == 1 else n

    @staticmethod
    def _prediction_dtype(model):
        return np.float64


_CLASS_DOC = """{summary}

    The parameters, fitted attributes and predictions of
    :class:`skdeep.{name}`; ``fit`` takes a Dask DataFrame of raw columns
    (numeric, boolean, date-time, category and string, NaN anywhere) and
    trains on the workers of the current ``distributed`` client, where the
    partitions stay. The input encoding is learned from summaries of the
    partitions and equals the in-memory one (see the user guide's
    "Data-parallel training" section for where rounding can differ); the
    ``n_networks`` members train side by side, one round per epoch: every
    worker runs the in-memory epoch on its rows with its share of each
    batch, and the client averages the workers' parameters and optimizer
    states. Predictions on a Dask DataFrame are lazy, partition by
    partition; ``to_local()`` returns the in-memory estimator.

    Parameters
    ----------
    See :class:`skdeep.{name}`: the same parameters, with the same defaults.

    Attributes
    ----------
    See :class:`skdeep.{name}`: the same fitted attributes.

    See Also
    --------
    skdeep.{name} : The in-memory estimator (``to_local()`` returns one).

    Notes
    -----
    Early stopping holds out ``validation_fraction`` of every partition
    for every member (each member its own rows, stratified by class for a
    classifier, reproducibly from ``random_state``; a partition too small
    to split trains on all its rows), or scores an explicit Dask ``X_val``.
    The score is summed over partitions, so ``scoring`` must be None or
    ``"loss"``. A fit is reproducible for a fixed ``random_state``,
    partitioning and number of workers; a worker lost during a fit is
    replaced by recomputing its partitions from the task graph, and the
    result does not change.

    Examples
    --------
    Needs a running cluster, so it is not run here
    (``tests/test_dask_tabular.py`` runs it):

    >>> import dask.dataframe as dd                          # doctest: +SKIP
    >>> from distributed import Client                       # doctest: +SKIP
    >>> from skdeep.dask import {name}                        # doctest: +SKIP
    >>> client = Client(n_workers=2)                         # doctest: +SKIP
    >>> frame = dd.read_parquet("table.parquet")             # doctest: +SKIP
    >>> X, y = frame.drop(columns="{target}"), frame["{target}"]  # doctest: +SKIP
    >>> model = {name}(random_state=0).fit(X, y)              # doctest: +SKIP
    >>> model.predict(X)                                     # doctest: +SKIP
    dask.array<...>
    >>> model.to_local()                                     # doctest: +SKIP
    {name}(random_state=0)
    """


class TabularMLPClassifier(_ClassifierHooks, _DistributedTabular, _LocalClassifier):
    __doc__ = _CLASS_DOC.format(
        summary="Tabular multi-layer perceptron classifier trained across a Dask cluster.",
        name="TabularMLPClassifier", target="label")
    _local_class = _LocalClassifier
    _parameter_constraints: dict = {**_LocalClassifier._parameter_constraints,
                                    "sync": _SYNC_CONSTRAINT}

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
                 random_state=None, verbose=False, sync="step"):
        self._set_params_from_init(locals())


class TabularMLPRegressor(_RegressorHooks, _DistributedTabular, _LocalRegressor):
    __doc__ = _CLASS_DOC.format(
        summary="Tabular multi-layer perceptron regressor trained across a Dask cluster.",
        name="TabularMLPRegressor", target="price")
    _local_class = _LocalRegressor
    _parameter_constraints: dict = {**_LocalRegressor._parameter_constraints,
                                    "sync": _SYNC_CONSTRAINT}

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
                 verbose=False, sync="step"):
        self._set_params_from_init(locals())
