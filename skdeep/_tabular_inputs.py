"""Raw tables in, one encoded float array out: the tabular estimators' inputs.

A first ``fit`` learns, per column, how to feed it to the network, and keeps
that as fitted attributes:

* numeric and boolean columns: robust scaling and smooth clipping statistics
  (``_engine/preprocessing.py``); a column with missing values in training
  also gets a 0/1 "was missing" indicator, and missing values become 0 (the
  median after scaling); with ``piecewise_bins``, the quantile bins of the
  scaled values, for the network's piecewise-linear encoding;
* date-time and duration columns (``datetime64``, ``timedelta64``, with
  any unit or time zone): seconds (since 1970-01-01 UTC for dates), then as
  numeric columns; the kind is kept, and a column must keep it at predict;
* categorical columns (pandas ``category``, ``object``, ``string``): their
  categories; at most ``max_one_hot`` categories become one-hot columns,
  more become a code for a learned embedding. Unseen categories and missing
  values encode as "unknown" (all-zero one-hot, embedding row 0);
* with ``value_embedding_min_count``, the numeric values that occur that
  often in training: each numeric column with such values also gets an
  embedding code, of its exact value (0 for the other values and missing).

The encoded array holds the scaled numeric columns, the indicators, the
one-hot columns, the categories' embedding codes, then the values'
embedding codes; the engine's
:class:`~skdeep._engine.EmbeddingLayout` embeds the last ones.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils.validation import validate_data

from ._categorical import (
    as_dense_2d,
    category_codes,
    category_lookups,
    is_arrow_category,
    learn_categories,
)
from ._engine import (
    EmbeddingLayout,
    exact_value_gain,
    frequent_values,
    quantile_bins,
    robust_scale,
    robust_scaling_statistics,
    value_codes,
)
from ._inputs import with_state

__all__ = ["learn_tabular_inputs", "encode_tabular", "tabular_layout"]

# Bins the exact values are compared against when the encodings are off.
_GAIN_BINS = 32


def _frame(X):
    """``X`` as a DataFrame (a DataFrame is not copied; sparse input is densified)."""
    if sp.issparse(X):
        X = X.toarray()
    X = as_dense_2d(X)
    return X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)


def _complex_numbers(name):
    return (
        f"Column {name} holds complex numbers, which the network cannot take (nor does "
        "scikit-learn): pass their real and imaginary parts (or magnitude and angle) as "
        "columns of their own."
    )


def _is_categorical(series, name):
    """Whether a column is categorical (else numeric); an error for a column that is neither.

    Categorical: pandas ``category`` and ``interval`` columns, strings, bytes,
    Arrow dictionaries, and ``object`` columns that hold anything but
    numbers. Numeric: numbers, booleans, dates and durations, whatever
    their backend (NumPy, nullable, Arrow).
    """
    dtype = series.dtype
    if dtype == object:
        # An object column of numbers only (an ndarray of dtype object) is numeric.
        converted = pd.to_numeric(series, errors="coerce")
        if (converted.isna() & series.notna()).any():
            return True
        dtype = converted.dtype
    if (isinstance(dtype, (pd.CategoricalDtype, pd.IntervalDtype))
            or pd.api.types.is_string_dtype(dtype) or is_arrow_category(dtype)):
        return True
    if getattr(dtype, "kind", None) == "c":
        raise ValueError(_complex_numbers(name))
    if (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
            or _time_kind(series)):
        return False
    raise ValueError(
        f"Column {name} holds {dtype} values, which are neither numbers, booleans, dates "
        "or durations, nor categories (category, string, object): convert it (e.g. "
        "with .astype(str) or .astype('category')), or drop it."
    )


#: Kinds of time columns (a dtype's ``kind``), encoded as seconds.
_TIME_KINDS = {"M": "datetime", "m": "timedelta"}


def _time_kind(series):
    """'datetime' (dates and times), 'timedelta' (durations) or '' for other columns."""
    return _TIME_KINDS.get(getattr(series.dtype, "kind", ""), "")


def _seconds(series, kind):
    """Dates as seconds since 1970-01-01 UTC, durations as seconds; NaT as NaN.

    The dtype's unit (``datetime64[s]``, ``[us]``, ...) and time zone only
    say how the instants are stored: the same instants give the same numbers
    whichever the source picked. A date without a time zone counts as UTC.
    """
    if kind == "datetime":
        # Any backend (NumPy, Arrow timestamps and dates), naive as UTC, at its own unit.
        instants = pd.to_datetime(series, utc=True).dt.tz_convert(None).to_numpy()
        return (instants - np.datetime64(0, "s")) / np.timedelta64(1, "s")
    return pd.to_timedelta(series).to_numpy() / np.timedelta64(1, "s")


def _numeric(series, name, kind):
    """A numeric, boolean or time column as float64, NaN for missing values.

    ``kind`` is the column's :func:`_time_kind` at fit: a time column must
    stay one of the same kind, a numeric column must not become one.
    """
    found = _time_kind(series)
    if found != kind:
        was = f"held {kind} values" if kind else "was numeric"
        raise ValueError(
            f"Column {name} {was} when the model was fitted but now holds "
            f"{series.dtype} values; pass it with the kind of values it had in fit."
        )
    if kind:
        return np.asarray(_seconds(series, kind), dtype=np.float64)
    if _is_numeric_extension(series.dtype):
        # Nullable and Arrow numbers (decimals too): their own conversion, NA as NaN.
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    try:
        values = pd.to_numeric(series, errors="raise")
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"Column {name} was numeric when the model was fitted but now holds "
            f"non-numeric values ({exc})."
        ) from None
    if np.iscomplexobj(values):
        raise ValueError(_complex_numbers(name))
    return np.asarray(values, dtype=np.float64, copy=True)


def _is_numeric_extension(dtype):
    return isinstance(dtype, pd.api.extensions.ExtensionDtype) and (
        pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
    )


def _numeric_block(frame, columns, names, time_kinds):
    """The numeric ``columns`` of ``frame`` as one float64 array (NaN: missing)."""
    if not len(columns):
        return np.empty((frame.shape[0], 0))
    return np.column_stack([
        _numeric(frame.iloc[:, j], _column_name(names, j), time_kinds[j]) for j in columns
    ])


def _column_name(names, j):
    return repr(str(names[j])) if names is not None else f"at index {j}"


def learn_tabular_inputs(estimator, X, Y):
    """Validate a first fit's ``X``, learn the per-column encoding, encode.

    ``Y`` is the encoded training target (one-hot classes or standardised
    values): it decides which numeric columns get value embeddings.

    Returns
    -------
    X_encoded : ndarray of shape (n_samples, n_encoded)
    state : dict
        Fitted attributes describing the input.
    """
    scratch = with_state(estimator, {})
    frame = _frame(X)
    validate_data(scratch, frame, skip_check_array=True, reset=True)
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(
            f"Found array with {frame.shape[0]} sample(s) and {frame.shape[1]} feature(s) "
            f"(shape={frame.shape}) while a minimum of 1 is required."
        )
    if len(Y) != frame.shape[0]:
        raise ValueError(f"X has {frame.shape[0]} rows but y has {len(Y)}.")
    names = getattr(scratch, "feature_names_in_", None)
    categorical = np.array([_is_categorical(frame.iloc[:, j], _column_name(names, j))
                            for j in range(frame.shape[1])], dtype=bool)
    time_kinds = np.array([_time_kind(frame.iloc[:, j]) for j in range(frame.shape[1])],
                          dtype=str)
    numeric = _numeric_block(frame, np.flatnonzero(~categorical), names, time_kinds)
    _check_numeric(numeric, names, np.flatnonzero(~categorical))
    _check_finite(numeric, names, np.flatnonzero(~categorical))
    center, factor = robust_scaling_statistics(numeric)
    categories = [
        learn_categories(frame.iloc[:, j], _column_name(names, j))
        for j in np.flatnonzero(categorical)
    ]
    state = {
        "n_features_in_": scratch.n_features_in_,
        "is_categorical_": categorical,
        "time_kinds_": time_kinds,
        "clip_": estimator.clip,
        "numeric_center_": center,
        "numeric_scale_": factor,
        "missing_indicator_": np.isnan(numeric).any(axis=0),
        "categories_": categories,
        "_category_lookups": category_lookups(categories),
        "one_hot_": np.array([len(c) <= estimator.max_one_hot for c in categories], dtype=bool),
        "frequent_values_": _frequent_values(numeric, Y, estimator.value_embedding_min_count,
                                             estimator.value_embedding_min_gain,
                                             estimator.piecewise_bins),
    }
    if names is not None:
        state["feature_names_in_"] = names
    encoded = _encode(frame, state, estimator.clip, numeric)
    if estimator.piecewise_bins:
        # Bins of the values the network sees: scaled, clipped, missing as 0.
        state["bin_lower_"], state["bin_inverse_width_"] = quantile_bins(
            encoded[:, : len(center)], estimator.piecewise_bins
        )
    return encoded, state


def _frequent_values(numeric, Y, min_count, min_gain, piecewise_bins):
    """Per numeric column, the values embedded as categories (none when off).

    A column qualifies when it has more distinct values than the bins of
    its piecewise-linear encoding (those already tell fewer values apart)
    and when, on the training rows, its frequent values predict the target
    better than those bins do, by :func:`~skdeep._engine.exact_value_gain`
    of at least ``min_gain`` (None: no such test): on smooth quantities a
    vector per value would only memorise the training targets.
    """
    n_bins = piecewise_bins or _GAIN_BINS
    chosen = []
    for j in range(numeric.shape[1]):
        values = (frequent_values(numeric[:, j], min_count, min_distinct=n_bins + 1)
                  if min_count else numeric[:0, j])
        if (len(values) and min_gain is not None
                and exact_value_gain(numeric[:, j], Y, values, n_bins) < min_gain):
            values = values[:0]
        chosen.append(values)
    return chosen


def _check_numeric(numeric, names, columns):
    """All-NaN numeric columns are errors that name the column."""
    if numeric.size == 0:
        return
    all_missing = np.isnan(numeric).all(axis=0)
    if all_missing.any():
        column = columns[np.flatnonzero(all_missing)[0]]
        raise ValueError(
            f"Column {_column_name(names, column)} has no values (every row is missing); "
            "drop it before fitting."
        )


def _check_finite(numeric, names, columns):
    """Infinite values are errors that name the column, at fit as at predict.

    Huge finite values are fine (they act like the largest ones), but an
    infinity is no measurement: it is refused rather than guessed at.
    """
    infinite = np.isinf(numeric).any(axis=0)
    if infinite.any():
        column = columns[np.flatnonzero(infinite)[0]]
        raise ValueError(
            f"Column {_column_name(names, column)} contains infinity; missing values "
            "(NaN) are supported, infinite ones are not."
        )


def encode_tabular(fitted, X):
    """Encode ``X`` with a fitted model's per-column encoding (its fitted state only)."""
    frame = _frame(X)
    validate_data(fitted, frame, skip_check_array=True, reset=False)
    # The clip of the fit: ``set_params(clip=...)`` takes effect at the next fit.
    state = fitted.__dict__
    return _encode(frame, state, state["clip_"] if "clip_" in state else fitted.clip)


def _encode(frame, state, clip, numeric=None):
    categorical = state["is_categorical_"]
    names = state.get("feature_names_in_")
    if numeric is None:
        # Models fitted before time columns were told apart have none.
        time_kinds = state.get("time_kinds_", np.full(len(categorical), ""))
        numeric = _numeric_block(frame, np.flatnonzero(~categorical), names, time_kinds)
        _check_finite(numeric, names, np.flatnonzero(~categorical))
    indicators = np.isnan(numeric[:, state["missing_indicator_"]]).astype(np.float64)
    scaled = robust_scale(numeric, state["numeric_center_"], state["numeric_scale_"], clip,
                          out=np.empty_like(numeric))
    one_hot_blocks, codes = [], []
    lookups = state.get("_category_lookups") or category_lookups(state["categories_"])
    for j, lookup, one_hot in zip(np.flatnonzero(categorical), lookups, state["one_hot_"]):
        column_codes = category_codes(frame.iloc[:, j], lookup, _column_name(names, j))
        if one_hot:
            one_hot_blocks.append(_one_hot(column_codes, len(lookup)))
        else:
            codes.append(column_codes.astype(np.float64))
    for j, values in enumerate(state.get("frequent_values_", ())):
        if len(values):
            codes.append(value_codes(numeric[:, j], values).astype(np.float64))
    parts = [scaled, indicators, *one_hot_blocks]
    if codes:
        parts.append(np.column_stack(codes))
    return np.ascontiguousarray(np.column_stack(parts) if parts else scaled)


def _one_hot(codes, n_categories):
    """One column per category; code 0 (unknown, missing) is the all-zero row.

    Memory is the output's, linear in the categories (indexing an identity
    matrix would take ``n_categories**2``).
    """
    block = np.zeros((len(codes), n_categories))
    rows = np.flatnonzero(codes)
    block[rows, codes[rows] - 1] = 1.0
    return block


def tabular_layout(state, embedding_dim):
    """The engine's view of the embedded columns of an encoding, or None.

    ``embedding_dim`` sizes the tables of a fit; a fitted model's tables
    (``embeddings_`` in ``state``) keep their own width whatever the
    parameter says now.
    """
    embedded = [len(c) for c, one_hot in zip(state["categories_"], state["one_hot_"])
                if not one_hot]
    embedded += [len(values) for values in state.get("frequent_values_", ()) if len(values)]
    if not embedded:
        return None
    n_dense = (len(state["numeric_center_"]) + int(state["missing_indicator_"].sum())
               + sum(len(c) for c, one_hot in zip(state["categories_"], state["one_hot_"])
                     if one_hot))
    n_columns = n_dense + len(embedded)
    tables = state.get("embeddings_")
    dims = [table.shape[1] for table in tables] if tables else [embedding_dim] * len(embedded)
    return EmbeddingLayout(n_columns, range(n_dense, n_columns), [k + 1 for k in embedded], dims)
