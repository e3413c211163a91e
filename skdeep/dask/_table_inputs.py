"""Learning a tabular model's inputs from a Dask DataFrame, without collecting it.

``learn_tabular_inputs`` (``skdeep/_tabular_inputs.py``) learns, from a
table in memory, how to feed each column to the network. This module learns
the same fitted state from summaries the workers compute on their
partitions, and gives the same values:

* which columns are categorical, and their kinds of time: from the
  DataFrame's metadata (``object`` columns: from every partition's values);
* categories: each partition's distinct values (or declared categories),
  merged in partition order, then sorted as in memory;
* missing-value indicators, and the check for empty or infinite columns:
  per-partition counts;
* medians, quartiles and ranges (robust scaling), the frequent values and
  the quantile bins of the piecewise-linear encoding: every numeric
  column's distinct values with their counts, merged across the workers by
  value ranges (:class:`~skdeep.dask._summaries.DistinctValues`), from
  which the order statistics these quantiles interpolate are read exactly;
  the quantiles are NumPy's, bit for bit;
* the value-embedding test: per-group counts, means and sums of squared
  deviations of the target (:class:`~skdeep.dask._summaries.GroupMoments`),
  equal to the in-memory sums up to floating-point rounding.

What travels to the client is a few numbers per column, the categories, the
frequent values and the requested order statistics; the distinct-value
tables stay on the workers.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils.validation import validate_data

from .._categorical import category_lookups, learn_categories
from .._engine import value_codes
from .._engine.preprocessing import (
    bin_levels,
    bins_from_quantiles,
    gain_levels,
    kept_frequent_values,
    scaling_from_quantiles,
    scaling_shrink,
)
from .._inputs import with_state
from .._tabular_inputs import (
    _GAIN_BINS,
    _check_finite,
    _column_name,
    _is_categorical,
    _numeric,
    _time_kind,
)
from ._cluster import gather, naming
from ._partitions import check_dtypes
from ._summaries import (
    DistinctValues,
    GroupMoments,
    numpy_median,
    numpy_median_ranks,
    numpy_quantile_ranks,
    numpy_quantiles,
    piece_bounds,
    value_gain,
)

__all__ = ["TableSpec", "learn_table_inputs", "learn_bins", "scan_partition"]

#: Values per worker and column sampled to cut the columns into value ranges.
_SPLITTER_SAMPLE = 64


@dataclass
class TableSpec:
    """What a worker needs to scan a partition: the columns and how to read them.

    Attributes
    ----------
    meta : pandas.DataFrame
        The DataFrame's metadata (no rows): column names and dtypes.
    y_meta : pandas object or None
        The target's metadata (a Dask array target has none).
    names : ndarray of str or None
        Feature names, for error messages.
    kinds : list of str
        Per column: "numeric" (numbers, booleans, times), "categorical", or
        "object" (decided by the values: categorical if any partition holds
        anything but numbers).
    time_kinds : ndarray of str
        Per column, the kind of time values ("datetime", "timedelta", "").
    estimator : estimator instance
        An unfitted copy of the estimator: its target hooks.
    """

    meta: pd.DataFrame
    y_meta: object
    names: object
    kinds: list
    time_kinds: np.ndarray
    estimator: object

    @property
    def numeric_candidates(self):
        return [j for j, kind in enumerate(self.kinds) if kind != "categorical"]

    @property
    def categorical_candidates(self):
        return [j for j, kind in enumerate(self.kinds) if kind != "numeric"]

    def name(self, j):
        return _column_name(self.names, j)


def table_spec(estimator, worker_copy, meta, y_meta):
    """The :class:`TableSpec` of a DataFrame (its metadata), with fit's checks of it.

    Also returns the input attributes sklearn's validation records
    (``n_features_in_``, ``feature_names_in_``).
    """
    scratch = with_state(estimator, {})
    validate_data(scratch, meta, skip_check_array=True, reset=True)
    if meta.shape[1] == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={meta.shape}) while a minimum of 1 is "
            "required."
        )
    names = getattr(scratch, "feature_names_in_", None)
    kinds = []
    for j in range(meta.shape[1]):
        series = meta.iloc[:, j]
        if series.dtype == object:
            kinds.append("object")
        else:
            kinds.append("categorical" if _is_categorical(series, _column_name(names, j))
                         else "numeric")
    time_kinds = np.array([_time_kind(meta.iloc[:, j]) for j in range(meta.shape[1])],
                          dtype=str)
    attributes = {"n_features_in_": scratch.n_features_in_}
    if names is not None:
        attributes["feature_names_in_"] = names
    return TableSpec(meta, y_meta, names, kinds, time_kinds, worker_copy), attributes


# --------------------------------------------------------------------------
# On the workers: scanning partitions
# --------------------------------------------------------------------------


@dataclass
class PartitionScan:
    """A partition read once: its numeric columns, categories and target.

    Attributes
    ----------
    n_rows : int
    numeric : ndarray of shape (n_rows, n_numeric_candidates)
        The columns that may be numeric, as float64 (NaN: missing); an
        ``object`` column holding other values here is all NaN.
    non_numeric : ndarray of bool of shape (n_numeric_candidates,)
        Which of them hold other values than numbers here.
    categories : list of ndarray
        Per column that may be categorical: its declared categories (a
        ``category`` column) or its distinct values in order of appearance.
    target : object
        The estimator's scan of the target (``_scan_target``).
    """

    n_rows: int
    numeric: np.ndarray
    non_numeric: np.ndarray
    categories: list
    target: object


def scan_partition(spec, index, X, y):
    """Read partition ``index`` of ``X`` and ``y``, with the checks of an in-memory fit."""
    what = f"partition {index} of X"
    with naming(what):
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(X)
        check_dtypes(X, spec.meta, "this partition")
        candidates = spec.numeric_candidates
        numeric = np.full((X.shape[0], len(candidates)), np.nan)
        non_numeric = np.zeros(len(candidates), dtype=bool)
        for c, j in enumerate(candidates):
            series = X.iloc[:, j]
            if spec.kinds[j] == "object" and _is_categorical(series, spec.name(j)):
                non_numeric[c] = True
                continue
            numeric[:, c] = _numeric(series, spec.name(j), spec.time_kinds[j])
        _check_finite(numeric, spec.names, candidates)
        categories = [_distinct_categories(X.iloc[:, j]) for j in spec.categorical_candidates]
    with naming(f"partition {index} of y"):
        if spec.y_meta is not None:
            check_dtypes(y, spec.y_meta, "this partition")
        if len(y) != X.shape[0]:
            raise ValueError(
                f"it has {len(y)} rows but partition {index} of X has {X.shape[0]}: the "
                "partitions of X and y must hold the same rows (take both from one "
                "DataFrame, or repartition y like X)."
            )
        if isinstance(y, (pd.Series, pd.DataFrame)) and not y.index.equals(X.index):
            raise ValueError(
                f"its index differs from that of partition {index} of X: the rows of X "
                "and y must be the same rows (take both from one DataFrame)."
            )
        target = spec.estimator._scan_target(y)
    return PartitionScan(X.shape[0], numeric, non_numeric, categories, target)


def _distinct_categories(series):
    """A partition's categories: declared ones, or the distinct values as they appear."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return np.asarray(series.cat.categories, dtype=object)
    try:
        return np.asarray(series.dropna().unique(), dtype=object)
    except TypeError:
        # An unhashable value: learn_categories raises the error that names it.
        return learn_categories(series, "")


def _merged_categories(parts):
    """Distinct values of several partitions' categories, in order of first appearance."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return np.empty(0, dtype=object)
    return np.asarray(pd.unique(np.concatenate(parts).astype(object)), dtype=object)


@dataclass
class ScanSummary:
    """A worker's summary of its scans: what the client decides the encoding from."""

    n_rows: list
    non_numeric: np.ndarray
    missing: np.ndarray
    categories: list
    target: object


def summarise_scans(spec, scans):
    """One :class:`ScanSummary` of a worker's scans (in partition order)."""
    n_candidates = len(spec.numeric_candidates)
    non_numeric = np.zeros(n_candidates, dtype=bool)
    missing = np.zeros(n_candidates, dtype=np.int64)
    for scan in scans:
        non_numeric |= scan.non_numeric
        missing += np.isnan(scan.numeric).sum(axis=0)
    categories = [_merged_categories([scan.categories[c] for scan in scans])
                  for c in range(len(spec.categorical_candidates))]
    target = spec.estimator._merge_target_scans([scan.target for scan in scans])
    return ScanSummary([scan.n_rows for scan in scans], non_numeric, missing, categories,
                       target)


def _numeric_values(columns, scans):
    """The chosen numeric candidate columns of a worker's scans, stacked."""
    return np.concatenate([scan.numeric[:, columns] for scan in scans], axis=0)


def distinct_tables(columns, scans):
    """The :class:`DistinctValues` of each chosen numeric column over a worker's scans."""
    values = _numeric_values(columns, scans)
    return [DistinctValues.of(values[:, c]) for c in range(values.shape[1])]


def merged_tables(tables_per_part):
    """Per column, the merge of several parts' tables (a list of lists of tables)."""
    return [DistinctValues.merged(column) for column in zip(*tables_per_part)]


def table_samples(tables):
    """Per column: rows and a sample of values at evenly spaced ranks."""
    return [(t.n, t.sample(_SPLITTER_SAMPLE)) for t in tables]


def value_range(bounds, piece, *tables_per_worker):
    """Range ``piece`` of every column, merged over the workers' tables."""
    return [DistinctValues.merged([tables[c].between(bounds[c][piece], bounds[c][piece + 1])
                                   for tables in tables_per_worker])
            for c in range(len(bounds))]


def range_summary(min_count, tables):
    """Per column of one range: rows, distinct values, and those seen ``min_count`` times."""
    return [(t.n, len(t.values), t.frequent(min_count) if min_count else t.values[:0])
            for t in tables]


def range_values(ranks, tables):
    """Per column of one range: the values of the given ranks within the range."""
    return [t.at_ranks(r) if len(r) else np.empty(0) for t, r in zip(tables, ranks)]


def value_group_moments(estimator, fitted, tests, scans):
    """Per tested column: target moments of its bins and frequent values over a worker's scans.

    ``tests`` holds, per column, ``(candidate index, inner bin edges,
    frequent values)``; each scan's target rows are encoded by the
    estimator's ``_scan_target_rows`` with the fitted target ``fitted``.
    Groups ``0..n_bins - 1`` are the bins (rows of no frequent value), group
    ``n_bins + i`` the rows of frequent value ``i``; missing values are left
    out, as ``exact_value_gain`` leaves them out.
    """
    moments = [None] * len(tests)
    for scan in scans:
        if scan.n_rows == 0:
            continue
        Y = estimator._scan_target_rows(fitted, scan.target)
        for t, (column, edges, values) in enumerate(tests):
            x = scan.numeric[:, column]
            present = ~np.isnan(x)
            x = x[present]
            n_bins = len(edges) + 1
            codes = value_codes(x, values)
            groups = np.where(codes > 0, n_bins - 1 + codes, np.searchsorted(edges, x))
            part = GroupMoments.of(groups, Y[present], n_bins + len(values))
            moments[t] = part if moments[t] is None else moments[t].merged(part)
    return moments


# --------------------------------------------------------------------------
# On the client: order statistics from value ranges
# --------------------------------------------------------------------------


class ColumnValues:
    """Exact order statistics of numeric columns spread over the workers.

    Each worker's distinct-value tables are cut into value ranges, one range
    per worker, and each range is merged on one worker: the ranges then
    cover each column in order, and the value of any rank is read from the
    range that holds it.

    Parameters
    ----------
    kept : Kept
        Per worker, a future of its list of :class:`DistinctValues` (one per
        column).
    min_count : int
        Also find each column's values that occur this often (0: none).
    """

    def __init__(self, kept, min_count=0):
        self.kept = kept
        samples = kept.map_groups(_samples_of)
        present = [g for g, sample in enumerate(samples) if sample is not None]
        kept = kept.subset(present)
        samples = [samples[g] for g in present]
        self.kept = kept
        n_columns = len(samples[0])
        bounds = [piece_bounds([worker[c][1] for worker in samples], len(kept.futures))
                  for c in range(n_columns)]
        client = kept.client
        self.ranges = [
            client.submit(value_range, bounds, piece, *kept.futures, workers=[address],
                          allow_other_workers=True, pure=False)
            for piece, address in enumerate(kept.addresses)
        ]
        summaries = gather(client, [
            client.submit(range_summary, min_count, r, workers=[address],
                          allow_other_workers=True, pure=False)
            for r, address in zip(self.ranges, kept.addresses)
        ])
        self.range_rows = np.array([[s[c][0] for s in summaries] for c in range(n_columns)])
        self.n = self.range_rows.sum(axis=1)
        self.n_distinct = np.array([sum(s[c][1] for s in summaries) for c in range(n_columns)])
        self.frequent = [np.concatenate([s[c][2] for s in summaries]) for c in range(n_columns)]
        self.addresses = kept.addresses

    def order_statistics(self, ranks):
        """Per column, a dict ``rank -> value`` of the requested ranks (one round trip)."""
        starts = np.concatenate([np.zeros((len(self.n), 1), dtype=np.int64),
                                 np.cumsum(self.range_rows, axis=1)], axis=1)
        requests = [[np.empty(0, dtype=np.int64)] * len(self.n) for _ in self.ranges]
        wanted = []
        for c, column_ranks in enumerate(ranks):
            column_ranks = np.unique(np.asarray(column_ranks, dtype=np.int64))
            piece = np.searchsorted(starts[c], column_ranks, side="right") - 1
            wanted.append((column_ranks, piece))
            for p in range(len(self.ranges)):
                requests[p][c] = column_ranks[piece == p] - starts[c][p]
        client = self.kept.client
        answers = gather(client, [
            client.submit(range_values, request, r, workers=[address],
                          allow_other_workers=True, pure=False)
            for request, r, address in zip(requests, self.ranges, self.addresses)
        ])
        result = []
        for c, (column_ranks, piece) in enumerate(wanted):
            values = np.empty(len(column_ranks))
            for p in range(len(self.ranges)):
                values[piece == p] = answers[p][c]
            result.append(dict(zip(column_ranks.tolist(), values)))
        return result

    def release(self):
        for future in self.ranges:
            future.release()
        self.ranges = []


def _samples_of(tables_list):
    (tables,) = tables_list
    return None if tables is None else table_samples(tables)


def _lookup(values, scale=1.0):
    """``order_statistics(ranks)`` over a dict of fetched values, times ``scale``."""
    return lambda ranks: np.array([values[int(r)] for r in np.ravel(ranks)]) * scale


def _scaling_ranks(n):
    previous, following, _ = numpy_quantile_ranks(n, [0.25, 0.75])
    return [*numpy_median_ranks(n), *previous, *following, 0, n - 1]


def _gain_ranks(n, n_bins):
    previous, following, _ = numpy_quantile_ranks(n, gain_levels(n_bins))
    return [*previous, *following]


# --------------------------------------------------------------------------
# On the client: the whole learning
# --------------------------------------------------------------------------


@dataclass
class LearnedTable:
    """The result of :func:`learn_table_inputs`.

    Attributes
    ----------
    state : dict
        The input attributes, as ``learn_tabular_inputs`` returns them
        (without the bins, see :func:`learn_bins`).
    partition_rows : list of int
        Rows of each partition of ``X``.
    target : object
        The merged target summary (classes and counts, or moments).
    """

    state: dict
    partition_rows: list
    target: object = field(default=None)


def learn_table_inputs(estimator, spec, attributes, scans):
    """The fitted input description of the scanned table (:class:`LearnedTable`).

    Parameters
    ----------
    estimator : estimator instance
        The estimator being fitted: its parameters and target hooks.
    spec : TableSpec
    attributes : dict
        ``n_features_in_`` and ``feature_names_in_`` (:func:`table_spec`).
    scans : Kept
        One :class:`PartitionScan` future per partition, run by worker.
    """
    summaries = scans.map_groups(summarise_scans, spec)
    partition_rows = [n for summary in summaries for n in summary.n_rows]
    if sum(partition_rows) == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape=(0, {spec.meta.shape[1]})) while a "
            "minimum of 1 is required."
        )
    target = estimator._merge_target_scans([s.target for s in summaries])
    target_state = estimator._learn_scanned_target(target, scans)
    non_numeric = np.logical_or.reduce([s.non_numeric for s in summaries])
    candidates = spec.numeric_candidates
    categorical = np.array([
        kind == "categorical" or (kind == "object" and non_numeric[candidates.index(j)])
        for j, kind in enumerate(spec.kinds)], dtype=bool)
    numeric_columns = [c for c, j in enumerate(candidates) if not categorical[j]]
    missing = np.sum([s.missing for s in summaries], axis=0)[numeric_columns]
    n_rows = sum(partition_rows)
    _check_not_empty(missing, n_rows, spec, np.flatnonzero(~categorical))
    categories = _categories(spec, categorical, summaries)
    state = {
        **attributes,
        **target_state,
        "is_categorical_": categorical,
        "time_kinds_": spec.time_kinds,
        "clip_": estimator.clip,
        "missing_indicator_": missing > 0,
        "categories_": categories,
        "_category_lookups": category_lookups(categories),
        "one_hot_": np.array([len(c) <= estimator.max_one_hot for c in categories],
                             dtype=bool),
    }
    center, factor, frequent = _numeric_statistics(estimator, scans, numeric_columns,
                                                   target_state)
    state.update({"numeric_center_": center, "numeric_scale_": factor,
                  "frequent_values_": frequent})
    return LearnedTable(state, partition_rows, target)


def _check_not_empty(missing, n_rows, spec, numeric):
    """A numeric column with no value is an error that names it (as in memory)."""
    empty = np.flatnonzero(missing == n_rows)
    if len(empty):
        raise ValueError(
            f"Column {spec.name(numeric[empty[0]])} has no values (every row is missing); "
            "drop it before fitting."
        )


def _categories(spec, categorical, summaries):
    """Each categorical column's categories, as ``learn_categories`` finds them in memory."""
    categories = []
    for c, j in enumerate(spec.categorical_candidates):
        if not categorical[j]:
            continue
        merged = _merged_categories([s.categories[c] for s in summaries])
        dtype = spec.meta.iloc[:, j].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            # A column's declared categories (known to the metadata, or the
            # union of the partitions', as dask's own concatenation gives).
            column = pd.Series(pd.Categorical([], categories=pd.Index(merged, dtype=object)))
        else:
            column = pd.Series(merged, dtype=object)
        categories.append(learn_categories(column, spec.name(j)))
    return categories


def _numeric_statistics(estimator, scans, columns, target_state):
    """Medians, inverse spreads and frequent values of the numeric columns."""
    if not columns:
        return np.zeros(0), np.zeros(0), []
    tables = scans.submit_groups(distinct_tables, columns)
    min_count = estimator.value_embedding_min_count
    values = ColumnValues(tables, min_count)
    try:
        n_bins = estimator.piecewise_bins or _GAIN_BINS
        frequent = [kept_frequent_values(f, d, n_bins + 1) if min_count else f[:0]
                    for f, d in zip(values.frequent, values.n_distinct)]
        tested = [c for c, f in enumerate(frequent)
                  if len(f) and estimator.value_embedding_min_gain is not None]
        ranks = [_scaling_ranks(n) + (_gain_ranks(n, n_bins) if c in tested else [])
                 for c, n in enumerate(values.n)]
        fetched = values.order_statistics(ranks)
    finally:
        values.release()
        tables.release()
    center, factor = _scaling(values.n, fetched)
    if tested:
        gains = _value_gains(estimator, scans, columns, values.n, fetched, frequent, tested,
                             n_bins, target_state)
        for c, gain in zip(tested, gains):
            if gain < estimator.value_embedding_min_gain:
                frequent[c] = frequent[c][:0]
    return center, factor, frequent


def _scaling(n, fetched):
    """``robust_scaling_statistics`` of the columns from their order statistics."""
    low = np.array([f[0] for f in fetched])
    high = np.array([f[int(m) - 1] for f, m in zip(fetched, n)])
    shrink = scaling_shrink(np.maximum(np.abs(low), np.abs(high)))
    center = np.array([numpy_median(_lookup(f, s), m) for f, s, m in zip(fetched, shrink, n)])
    q25, q75 = np.array([numpy_quantiles(_lookup(f, s), m, [0.25, 0.75])
                         for f, s, m in zip(fetched, shrink, n)]).T
    return scaling_from_quantiles(center, q25, q75, low * shrink, high * shrink, shrink)


def _value_gains(estimator, scans, columns, n, fetched, frequent, tested, n_bins, target_state):
    """``exact_value_gain`` of each tested column, from per-group target moments."""
    tests = []
    for c in tested:
        quantiles = numpy_quantiles(_lookup(fetched[c]), n[c], gain_levels(n_bins))
        tests.append((columns[c], np.unique(quantiles), frequent[c]))
    worker_copy = clone(estimator)
    parts = scans.map_groups(value_group_moments, worker_copy,
                             with_state(worker_copy, target_state), tests)
    gains = []
    for t, (_, edges, values) in enumerate(tests):
        moments = None
        for part in parts:
            if part[t] is not None:
                moments = part[t] if moments is None else moments.merged(part[t])
        gains.append(value_gain(moments, len(edges) + 1, np.searchsorted(edges, values)))
    return gains


def encoded_value_tables(n_numeric, X_encoded):
    """The distinct values of the scaled numeric columns of an encoded partition."""
    return [DistinctValues.of(X_encoded[:, j]) for j in range(n_numeric)]


def learn_bins(tables, n_bins):
    """``quantile_bins`` of the encoded numeric columns, from the workers' value tables.

    Parameters
    ----------
    tables : Kept
        Per worker, a future of its list of :class:`DistinctValues` of the
        scaled numeric columns (missing values encoded as 0).
    n_bins : int
        ``piecewise_bins``.
    """
    values = ColumnValues(tables)
    try:
        levels = bin_levels(n_bins)
        ranks = [np.concatenate(numpy_quantile_ranks(n, levels)[:2]) for n in values.n]
        fetched = values.order_statistics(ranks)
    finally:
        values.release()
    quantiles = [numpy_quantiles(_lookup(f), n, levels) for f, n in zip(fetched, values.n)]
    return bins_from_quantiles(quantiles, n_bins)
