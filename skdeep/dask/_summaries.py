"""Summaries of a table's columns that combine across partitions (NumPy only).

Learning a tabular model's inputs takes medians, quartiles, quantile bins,
frequent values and per-group target statistics of the whole table. On a
cluster each partition (or each worker's run of partitions) summarises its
rows, and the summaries combine:

* :class:`DistinctValues` holds a column's distinct values with their
  counts. Tables of several partitions merge exactly, and any order
  statistic of the whole column (the value of a given rank in its sorted
  present values) is read from them, so quantiles are exact:
  :func:`numpy_quantiles` and :func:`numpy_median` interpolate between
  order statistics with NumPy's own arithmetic, and give NumPy's results to
  the last bit.
* :class:`GroupMoments` holds counts, means and sums of squared deviations
  of a target by group; two of them merge (Chan et al.'s pairwise update),
  which is exact up to floating-point rounding. The leave-one-out errors of
  the value-embedding test are functions of them.
"""

from dataclasses import dataclass

import numpy as np

__all__ = [
    "DistinctValues",
    "GroupMoments",
    "leave_one_out_error",
    "numpy_median",
    "numpy_quantile_ranks",
    "numpy_quantiles",
    "piece_bounds",
    "value_gain",
]


@dataclass
class DistinctValues:
    """The distinct present values of a column, sorted, with their counts.

    Attributes
    ----------
    values : ndarray of shape (n_distinct,)
        Sorted distinct values (float64, no NaN).
    counts : ndarray of shape (n_distinct,) of int64
        How often each occurs.
    """

    values: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, x):
        """The table of the present (non-NaN) values of ``x``."""
        values, counts = np.unique(x[~np.isnan(x)], return_counts=True)
        return cls(values, counts.astype(np.int64))

    @classmethod
    def merged(cls, tables):
        """One table of the rows of all ``tables``."""
        tables = list(tables)
        if len(tables) == 1:
            return tables[0]
        values, inverse = np.unique(np.concatenate([t.values for t in tables]),
                                    return_inverse=True)
        counts = np.bincount(inverse, weights=np.concatenate([t.counts for t in tables]),
                             minlength=len(values))
        return cls(values, np.rint(counts).astype(np.int64))

    @property
    def n(self):
        """Number of present values (rows)."""
        return int(self.counts.sum())

    def between(self, low, high):
        """The table of the values ``v`` with ``low <= v < high``."""
        start, stop = np.searchsorted(self.values, [low, high], side="left")
        return DistinctValues(self.values[start:stop], self.counts[start:stop])

    def at_ranks(self, ranks):
        """The values of the given 0-based ranks in the sorted column."""
        ends = np.cumsum(self.counts)
        return self.values[np.searchsorted(ends, np.asarray(ranks, dtype=np.int64),
                                           side="right")]

    def count_below(self, value):
        """How many values are smaller than ``value``."""
        return int(self.counts[: np.searchsorted(self.values, value, side="left")].sum())

    def sample(self, n_points):
        """Up to ``n_points`` values at evenly spaced ranks (for choosing splitters)."""
        if not len(self.values):
            return self.values
        ranks = np.linspace(0, self.n - 1, min(n_points, self.n)).astype(np.int64)
        return self.at_ranks(ranks)

    def frequent(self, min_count):
        """The values that occur at least ``min_count`` times, sorted."""
        return self.values[self.counts >= min_count]


def piece_bounds(samples, n_pieces):
    """Splitters of a column's values into ``n_pieces`` ranges of similar size.

    Parameters
    ----------
    samples : list of ndarray
        Values at evenly spaced ranks of each part of the column
        (:meth:`DistinctValues.sample`), one array per part, with the
        number of rows each stands for in ``weights`` order.
    n_pieces : int
        Number of ranges.

    Returns
    -------
    bounds : ndarray of shape (n_pieces + 1,)
        ``-inf``, the splitters, ``inf``: range ``p`` is
        ``bounds[p] <= v < bounds[p + 1]``.
    """
    pooled = np.sort(np.concatenate([np.asarray(s, dtype=np.float64) for s in samples]))
    if len(pooled) == 0 or n_pieces == 1:
        inner = np.empty(0)
    else:
        inner = pooled[(np.arange(1, n_pieces) * len(pooled)) // n_pieces]
    return np.concatenate([[-np.inf], inner, [np.inf]])


def numpy_quantile_ranks(n, levels):
    """The order statistics ``np.quantile`` (linear method) reads for ``n`` values.

    Returns
    -------
    previous, following : ndarray of int64
        The ranks whose values it interpolates between, per level.
    gamma : ndarray of float64
        The interpolation weight, per level.
    """
    virtual = (n - 1) * np.asarray(levels, dtype=np.float64)
    previous = np.floor(virtual)
    gamma = virtual - previous
    following = previous + 1
    # At the top NumPy reads the last value twice.
    last = virtual >= n - 1
    previous[last] = following[last] = n - 1
    return previous.astype(np.int64), following.astype(np.int64), gamma


def numpy_quantiles(order_statistics, n, levels):
    """``np.quantile(x, levels)`` of a column from its order statistics, bit for bit.

    Parameters
    ----------
    order_statistics : callable
        ``order_statistics(ranks) -> values``: the values of the given
        ranks in the sorted column of ``n`` values.
    n : int
        Number of values (at least 1).
    levels : array-like of float
        Quantile levels in ``[0, 1]``.

    Returns
    -------
    quantiles : ndarray of float64
    """
    previous, following, gamma = numpy_quantile_ranks(n, levels)
    a = np.asarray(order_statistics(previous), dtype=np.float64)
    b = np.asarray(order_statistics(following), dtype=np.float64)
    # NumPy's linear interpolation, operation for operation (_lerp).
    difference = b - a
    result = a + difference * gamma
    return np.where(gamma >= 0.5, b - difference * (1 - gamma), result)


def numpy_median_ranks(n):
    """The ranks ``np.median`` averages for ``n`` values (one twice when ``n`` is odd)."""
    return np.array([(n - 1) // 2, n // 2], dtype=np.int64)


def numpy_median(order_statistics, n):
    """``np.median`` (and ``np.nanmedian``) of a column from its order statistics."""
    low, high = np.asarray(order_statistics(numpy_median_ranks(n)), dtype=np.float64)
    # NumPy sums the two middle values and halves the sum; an odd count
    # takes the middle value itself.
    return (low + high) / 2.0 if n % 2 == 0 else low


@dataclass
class GroupMoments:
    """Per group: count, mean and sum of squared deviations of each target column.

    Attributes
    ----------
    counts : ndarray of shape (n_groups,)
    means, m2 : ndarray of shape (n_groups, n_targets)
    """

    counts: np.ndarray
    means: np.ndarray
    m2: np.ndarray

    @classmethod
    def of(cls, groups, Y, n_groups):
        """The moments of the rows of ``Y`` (float) in each group ``0..n_groups - 1``."""
        Y = np.asarray(Y, dtype=np.float64).reshape(len(groups), -1)
        counts = np.bincount(groups, minlength=n_groups).astype(np.float64)
        safe = np.maximum(counts, 1.0)
        means = np.column_stack([np.bincount(groups, weights=y, minlength=n_groups) / safe
                                 for y in Y.T]) if Y.shape[1] else np.zeros((n_groups, 0))
        m2 = np.column_stack([
            np.bincount(groups, weights=(y - means[groups, t]) ** 2, minlength=n_groups)
            for t, y in enumerate(Y.T)]) if Y.shape[1] else np.zeros((n_groups, 0))
        return cls(counts, means.reshape(n_groups, -1), m2.reshape(n_groups, -1))

    def merged(self, other):
        """The moments of the rows of both (same groups): Chan et al.'s update."""
        counts = self.counts + other.counts
        safe = np.maximum(counts, 1.0)[:, None]
        delta = other.means - self.means
        means = self.means + delta * (other.counts[:, None] / safe)
        m2 = self.m2 + other.m2 + delta**2 * (self.counts * other.counts)[:, None] / safe
        return GroupMoments(counts, means, m2)

    def coarsened(self, mapping, n_coarse):
        """The moments of coarser groups: group ``g`` goes into ``mapping[g]``."""
        counts = np.bincount(mapping, weights=self.counts, minlength=n_coarse)
        safe = np.maximum(counts, 1.0)
        means = np.column_stack([
            np.bincount(mapping, weights=self.counts * m, minlength=n_coarse) / safe
            for m in self.means.T]).reshape(n_coarse, -1)
        spread = self.m2 + self.counts[:, None] * (self.means - means[mapping]) ** 2
        m2 = np.column_stack([np.bincount(mapping, weights=s, minlength=n_coarse)
                              for s in spread.T]).reshape(n_coarse, -1)
        return GroupMoments(counts, means, m2)

    def total(self):
        """The moments of all rows as one group."""
        return self.coarsened(np.zeros(len(self.counts), dtype=np.intp), 1)


def leave_one_out_error(moments):
    """Squared error of predicting each row by the mean target of the other rows of its group.

    A group of ``c >= 2`` rows contributes ``(c / (c - 1))**2`` times its sum
    of squared deviations; a row alone in its group is predicted by the mean
    of all rows (as :func:`~skdeep._engine.exact_value_gain` does).
    """
    counts = moments.counts
    overall = moments.total().means[0]
    several = counts >= 2
    factor = np.zeros_like(counts)
    factor[several] = (counts[several] / (counts[several] - 1.0)) ** 2
    error = float(np.sum(factor[:, None] * moments.m2))
    alone = counts == 1
    return error + float(np.sum((moments.means[alone] - overall) ** 2))


def value_gain(moments, n_bins, value_bins):
    """:func:`~skdeep._engine.exact_value_gain` from per-group moments.

    Parameters
    ----------
    moments : GroupMoments
        Groups ``0..n_bins - 1``: the rows of each bin that hold no frequent
        value; group ``n_bins + i``: the rows holding frequent value ``i``.
    n_bins : int
        Number of bins (the inner edges plus one).
    value_bins : ndarray of int
        The bin of each frequent value.

    Returns
    -------
    gain : float
        Relative reduction of the leave-one-out error when the frequent
        values get groups of their own.
    """
    if len(moments.counts) == n_bins or moments.counts.sum() < 2:
        return 0.0
    mapping = np.concatenate([np.arange(n_bins), value_bins]).astype(np.intp)
    binned = leave_one_out_error(_occupied(moments.coarsened(mapping, n_bins)))
    if binned == 0:
        return 0.0
    return float(1.0 - leave_one_out_error(_occupied(moments)) / binned)


def _occupied(moments):
    """The groups that hold rows."""
    kept = moments.counts > 0
    return GroupMoments(moments.counts[kept], moments.means[kept], moments.m2[kept])
