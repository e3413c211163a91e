"""In-model preprocessing of numeric features: robust scaling, smooth clipping.

Tabular columns come with outliers, skew and missing values. Before they
reach the first layer, each numeric column is centred on its median, divided
by its interquartile range, and squashed smoothly into ``(-limit, limit)``:

``z = (x - median) / IQR``, then ``z / sqrt(1 + (z / limit)**2)``,

which is close to ``z`` for small values and never exceeds ``limit`` (the
"smooth clipping" of Holzmüller et al., 2024); without clipping, ``z`` is
kept within ``±UNCLIPPED_BOUND``. Either way a huge value acts like the
largest ones. A column whose IQR is 0 is divided by half its range instead;
a constant column becomes 0. A missing value becomes 0, the median. The
statistics are learned once, at ``fit``.
"""

import numpy as np

__all__ = [
    "UNCLIPPED_BOUND",
    "bin_levels",
    "bins_from_quantiles",
    "target_shrink",
    "target_standardisation",
    "exact_value_gain",
    "frequent_values",
    "gain_levels",
    "kept_frequent_values",
    "quantile_bins",
    "robust_scale",
    "robust_scaling_statistics",
    "scaling_from_quantiles",
    "scaling_shrink",
    "value_codes",
]


#: Magnitude beyond which a column's statistics could overflow (a quarter of
#: the largest float64: the difference of two such values is finite).
_HUGE = np.finfo(np.float64).max / 4


def robust_scaling_statistics(X):
    """Median and inverse spread of each column of ``X`` (NaN ignored).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_columns)
        Float data; every column must have at least one non-NaN value.

    Returns
    -------
    center : ndarray of shape (n_columns,)
        Median of each column.
    factor : ndarray of shape (n_columns,)
        ``1 / IQR``, or ``2 / (max - min)`` where the IQR is 0, or 0 for a
        constant column.
    """
    if X.shape[1] == 0:
        # NumPy's nanquantile drops the quantile axis of an empty selection.
        return np.zeros(0), np.zeros(0)
    # Near the float range, medians (means of two values), quantiles
    # (interpolations) and spreads (differences) overflow: such columns are
    # computed at a quarter of their size, a power of two, hence exactly.
    shrink = scaling_shrink(np.nanmax(np.abs(X), axis=0))
    if (shrink != 1.0).any():
        X = X * shrink
    center = np.nanmedian(X, axis=0)
    q25, q75 = np.nanquantile(X, [0.25, 0.75], axis=0)
    return scaling_from_quantiles(center, q25, q75, np.nanmin(X, axis=0), np.nanmax(X, axis=0),
                                  shrink)


def scaling_shrink(magnitude):
    """Per column, the power of two its values are computed at: 0.25 near the float range.

    ``magnitude`` is each column's largest absolute value.
    """
    return np.where(magnitude > _HUGE, 0.25, 1.0)


def scaling_from_quantiles(center, q25, q75, low, high, shrink):
    """:func:`robust_scaling_statistics` from each column's summaries.

    ``center``, ``q25``, ``q75``, ``low`` and ``high`` are the median,
    quartiles, minimum and maximum of each column times its ``shrink``
    (:func:`scaling_shrink`), missing values left out.
    """
    spread = q75 - q25
    half_range = 0.5 * (high - low)
    spread = np.where(spread > 0, spread, half_range)
    with np.errstate(divide="ignore"):
        factor = np.where(spread > 0, 1.0 / spread, 0.0)
    return center / shrink, factor * shrink


#: Bound of the scaled values when they are not clipped (``limit=None``):
#: beyond any real measurement (10**12 spreads from the median), and small
#: enough that no layer of a network overflows on it, so that a huge value
#: acts like the largest ones instead of turning the network's output to NaN.
UNCLIPPED_BOUND = 1e12


def robust_scale(X, center, factor, limit, out):
    """Scale, smoothly clip and fill missing values, into ``out``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_columns)
        Float data, NaN for missing values (no infinity).
    center, factor : ndarray of shape (n_columns,)
        From :func:`robust_scaling_statistics`.
    limit : float or None
        Bound of the smooth clipping; None scales without clipping, within
        ``±UNCLIPPED_BOUND``.
    out : ndarray of shape (n_samples, n_columns)
        Receives the result (not ``X`` itself).

    Returns
    -------
    out : ndarray
        Every value finite: however large a value, it ends at most at the
        bound, as the largest values do.
    """
    _centre_and_scale(X, center, factor, out)
    # A value far beyond the spread may still overflow to infinity; the
    # bound catches it below.
    with np.errstate(over="ignore", invalid="ignore"):
        if limit is None:
            np.clip(out, -UNCLIPPED_BOUND, UNCLIPPED_BOUND, out=out)
        else:
            _smooth_clip(out, limit)
    np.nan_to_num(out, copy=False, nan=0.0)
    return out


def _centre_and_scale(X, center, factor, out):
    """``(X - center) * factor`` into ``out``, exact where ``X - center`` overflows.

    Values and a median near the float range (of opposite signs) have a
    difference beyond it; those entries are computed at a quarter of their
    size, a power of two, so the result is the same as without overflow.
    Ordinary data takes one subtraction and one product, as before.
    """
    try:
        with np.errstate(over="raise"):
            np.subtract(X, center, out=out)
        overflowed = None
    except FloatingPointError:
        overflowed = np.nonzero(np.isinf(out))
    with np.errstate(over="ignore", invalid="ignore"):
        out *= factor
        if overflowed is not None:
            rows, columns = overflowed
            out[rows, columns] = ((X[rows, columns] * 0.25 - center[columns] * 0.25)
                                  * (factor[columns] * 4.0))


def _smooth_clip(Z, limit):
    """``Z / sqrt(1 + (Z / limit)**2)`` in place, ``±limit`` where the square overflows."""
    squashed = Z / limit
    np.square(squashed, out=squashed)
    squashed += 1.0
    np.sqrt(squashed, out=squashed)
    # Beyond about 1e154 * limit (or an infinite Z) the square is infinite and
    # the division would give 0 or NaN; the exact result there is the bound.
    overflowed = np.isinf(squashed)
    bound = np.copysign(limit, Z[overflowed])
    Z /= squashed
    Z[overflowed] = bound


#: Targets beyond this magnitude would overflow the sum of squares of their
#: standard deviation (2**500, about 3e150).
_HUGE_TARGET = 2.0**500


def target_standardisation(Y):
    """Mean and positive standard deviation of each column of ``Y``, finite for finite ``Y``.

    A column of huge values (beyond ``2**500``) is computed at its size
    divided by a power of two, exactly, where its squares (and, near the
    float range, its sum) would overflow. A constant column gets a
    standard deviation of 1.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_targets)
        Finite targets.

    Returns
    -------
    mean, scale : ndarray of shape (n_targets,)
    """
    shrink = target_shrink(np.abs(Y).max(axis=0))
    if (shrink != 1.0).any():
        Y = Y * shrink
    mean, scale = Y.mean(axis=0) / shrink, Y.std(axis=0) / shrink
    scale[scale == 0] = 1.0
    return mean, scale


def target_shrink(magnitude):
    """Per target column, the power of two :func:`target_standardisation` computes it at.

    ``magnitude`` is each column's largest absolute value; 1 for all but
    huge columns.
    """
    huge = magnitude > _HUGE_TARGET
    shrink = np.ones(len(magnitude))
    shrink[huge] = 2.0 ** -np.ceil(np.log2(magnitude[huge]))
    return shrink


def quantile_bins(Z, n_bins):
    """Bins of each column of ``Z`` between its quantiles, for piecewise-linear encodings.

    The edges of column ``j`` are its distinct quantiles at
    ``0, 1/n_bins, ..., 1``, so each bin holds about as many training values.
    A column with few distinct values gets fewer bins (each of its values
    then sits on an edge, and the encodings tell the values apart, as
    one-hot columns would, while keeping their order); the unused bins get
    an inverse width of 0, which encodes every value as 0.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_columns)
        Scaled training values (no NaN).
    n_bins : int
        Largest number of bins per column.

    Returns
    -------
    lower : ndarray of shape (n_columns, n_bins)
        Lower edge of each bin.
    inverse_width : ndarray of shape (n_columns, n_bins)
        ``1 / (upper - lower)`` of each bin, 0 for unused bins.
    """
    levels = bin_levels(n_bins)
    return bins_from_quantiles([np.quantile(Z[:, j], levels) for j in range(Z.shape[1])], n_bins)


def bin_levels(n_bins):
    """The quantile levels of :func:`quantile_bins`' edges: ``0, 1/n_bins, ..., 1``."""
    return np.linspace(0.0, 1.0, n_bins + 1)


def bins_from_quantiles(quantiles, n_bins):
    """:func:`quantile_bins` from each column's quantiles at :func:`bin_levels`."""
    lower = np.zeros((len(quantiles), n_bins))
    inverse_width = np.zeros((len(quantiles), n_bins))
    for j, column_quantiles in enumerate(quantiles):
        edges = _separable(np.unique(column_quantiles))
        used = len(edges) - 1
        lower[j, :used] = edges[:-1]
        inverse_width[j, :used] = 1.0 / np.diff(edges)
    return lower, inverse_width


#: Relative resolution of float32, the training dtype.
_FLOAT32_RESOLUTION = float(np.finfo(np.float32).eps)


def _separable(edges):
    """Sorted ``edges`` without those closer to the previous kept one than float32 resolves.

    Training runs in float32: two edges it cannot tell apart (a median of 1
    and a neighbour at 1e-160, after scaling a column of huge values) would
    make a bin of width ~0 whose inverse overflows. A gap must be at least
    float32's resolution at the edges' magnitude (and at 1, in units of the
    column's spread); ordinary quantiles are far apart.
    """
    kept = [edges[0]] if len(edges) else []
    for edge in edges[1:]:
        if edge - kept[-1] >= _FLOAT32_RESOLUTION * max(1.0, abs(edge), abs(kept[-1])):
            kept.append(edge)
    return np.asarray(kept, dtype=edges.dtype)


def frequent_values(x, min_count, min_distinct=3):
    """The values of ``x`` that occur at least ``min_count`` times, sorted.

    Exact values can carry meaning that their magnitude does not: a salary
    converted from a local currency, a price point, a code stored as a
    number. Giving each frequent value its own embedding lets a network
    single it out, as a tree's two splits around it would.

    Parameters
    ----------
    x : ndarray of shape (n_samples,)
        Raw values of one numeric column, NaN for missing ones (never frequent).
    min_count : int
        Smallest number of occurrences of a frequent value (at least 1).
    min_distinct : int, default=3
        Smallest number of distinct values of a column that gets frequent
        values. With two, the scaled value already tells them apart; with
        few, so do the piecewise-linear encodings (one bin between each two
        values).

    Returns
    -------
    values : ndarray of shape (n_frequent,)
        Sorted frequent values; empty when the column has fewer than
        ``min_distinct`` distinct values or fewer than two frequent ones.
    """
    values, counts = np.unique(x[~np.isnan(x)], return_counts=True)
    return kept_frequent_values(values[counts >= min_count], len(values), min_distinct)


def kept_frequent_values(frequent, n_distinct, min_distinct):
    """:func:`frequent_values` from a column's ``frequent`` values and its distinct count."""
    if n_distinct < max(min_distinct, 3) or len(frequent) < 2:
        return frequent[:0]
    return frequent


def exact_value_gain(x, Y, values, n_bins):
    """How much better a column's exact values predict ``Y`` than its bins do.

    Each row is predicted by the mean target of the other rows of its group
    (leave-one-out, so a group cannot predict its own rows). The groups are
    either the column's ``n_bins`` quantile bins, or the same bins with every
    frequent value split out as a group of its own. On a smooth quantity the
    split groups are noisier versions of their bins and predict worse; on a
    column whose numbers are codes (a salary converted from a few currencies,
    an occupation code) the exact value says more than its neighbourhood.

    Parameters
    ----------
    x : ndarray of shape (n_samples,)
        Raw values of one numeric column; missing rows (NaN) are left out.
    Y : ndarray of shape (n_samples, n_targets)
        Training target: one-hot classes, or standardised values.
    values : ndarray of shape (n_values,)
        Sorted frequent values of the column (:func:`frequent_values`).
    n_bins : int
        Number of quantile bins to compare against.

    Returns
    -------
    gain : float
        Relative reduction of the leave-one-out squared error when the
        frequent values get their own groups: 0.1 means 10 % less error,
        negative values mean the exact values predict worse.
    """
    present = ~np.isnan(x)
    x, Y = x[present], np.asarray(Y, dtype=np.float64)[present]
    if not len(values) or len(x) < 2:
        return 0.0
    edges = np.unique(np.quantile(x, gain_levels(n_bins)))
    bins = np.searchsorted(edges, x)
    codes = value_codes(x, values)
    split = np.where(codes > 0, len(edges) + codes, bins)
    binned_error = _leave_one_out_error(bins, Y)
    if binned_error == 0:
        return 0.0
    return float(1.0 - _leave_one_out_error(split, Y) / binned_error)


def gain_levels(n_bins):
    """The quantile levels of the inner bin edges :func:`exact_value_gain` compares against."""
    return np.linspace(0, 1, n_bins + 1)[1:-1]


def _leave_one_out_error(groups, Y):
    """Squared error of predicting each row by its group's other rows' mean."""
    _, groups, counts = np.unique(groups, return_inverse=True, return_counts=True)
    others = counts[groups] - 1.0
    error = 0.0
    for y in Y.T:
        sums = np.bincount(groups, weights=y, minlength=len(counts))
        # A row alone in its group falls back to the column's overall mean.
        prediction = np.where(others > 0, (sums[groups] - y) / np.maximum(others, 1.0),
                              y.mean())
        error += float(np.sum((prediction - y) ** 2))
    return error


def value_codes(x, values):
    """Code of each entry of ``x`` in the sorted ``values``: ``1 + index``, 0 if absent.

    Parameters
    ----------
    x : ndarray of shape (n_samples,)
        Raw values, NaN for missing ones (code 0).
    values : ndarray of shape (n_values,)
        Sorted values, from :func:`frequent_values`.

    Returns
    -------
    codes : ndarray of shape (n_samples,) of int64
    """
    if not len(values):
        return np.zeros(len(x), dtype=np.int64)
    index = np.searchsorted(values, x).clip(0, len(values) - 1)
    return np.where(values[index] == x, index + 1, 0)
