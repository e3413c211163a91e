"""A Dask DataFrame's partitions on the workers: pairing, placement, kept results.

A tabular fit reads each partition of ``X`` (with its partition of ``y``
and of ``sample_weight``) where a worker computes it, and keeps what it
makes of it there as a future: a scan (the partition's summaries and its
numeric columns), then the encoded rows. :class:`Partitions` pairs the
collections partition by partition, refusing what cannot line up, and
places each run of consecutive partitions on one worker (a soft
restriction, so that another worker takes over when one leaves: the
scheduler recomputes what was lost from the task graph).
"""

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd

from ._blocks import contiguous_groups
from ._cluster import gather

__all__ = ["Kept", "Partitions", "as_frame", "check_dtypes", "dtype_key"]


def as_frame(X, name="X"):
    """``X`` as a Dask DataFrame: a Dask array becomes one (columns 0, 1, ...)."""
    if isinstance(X, dd.DataFrame):
        return X
    if isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"{name} must be 2-D (samples, features); got {X.ndim} dimensions.")
        if len(X.chunks[1]) > 1:
            X = X.rechunk({1: -1})
        return dd.from_dask_array(X)
    if isinstance(X, dd.Series):
        raise TypeError(
            f"{name} is a Dask Series; the tabular estimators take a table: pass "
            f"{name}.to_frame()."
        )
    raise TypeError(
        f"skdeep.dask's tabular estimators train on Dask DataFrames; {name} is a "
        f"{type(X).__name__}. Read the data with dask.dataframe (e.g. "
        "dd.read_parquet), wrap a pandas frame with dd.from_pandas(frame, npartitions=...), "
        "or fit skdeep.TabularMLPClassifier / TabularMLPRegressor in memory."
    )


def _row_parts(data, name):
    """The delayed row partitions of a Dask Series, DataFrame or array (rows only)."""
    if isinstance(data, (dd.DataFrame, dd.Series)):
        return list(data.to_delayed())
    if isinstance(data, da.Array):
        if data.ndim == 2 and len(data.chunks[1]) > 1:
            data = data.rechunk({1: -1})
        if data.ndim not in (1, 2):
            raise ValueError(f"{name} must be 1-D or 2-D; got shape {data.shape}.")
        return list(data.to_delayed().ravel())
    raise TypeError(
        f"{name} is a {type(data).__name__}; with a Dask DataFrame X, pass {name} as a "
        f"Dask Series (e.g. {name} = frame['target']) or a Dask array, partitioned like X."
    )


def _check_alignment(X, data, name):
    """``data`` must come in as many partitions as ``X``, over the same index ranges."""
    n_parts = data.npartitions if hasattr(data, "npartitions") else data.numblocks[0]
    if n_parts != X.npartitions:
        raise ValueError(
            f"X has {X.npartitions} partitions but {name} has {n_parts}: partition i of "
            f"{name} must hold the rows of partition i of X. Take both from one DataFrame "
            f"(X = frame.drop(columns='target'), {name} = frame['target']), or repartition "
            f"{name} like X."
        )
    divisions = getattr(data, "divisions", None)
    if (divisions is not None and X.known_divisions and data.known_divisions
            and tuple(divisions) != tuple(X.divisions)):
        raise ValueError(
            f"The divisions of X and {name} differ, so their partitions hold different "
            f"index ranges (X: {_short(X.divisions)}, {name}: {_short(divisions)}): "
            f"repartition {name} with {name}.repartition(divisions=X.divisions)."
        )


def _short(values, shown=4):
    values = list(values)
    if len(values) <= shown:
        return str(values)
    return f"[{', '.join(map(str, values[:shown]))}, ... {len(values)} in all]"


def dtype_key(dtype):
    """What must agree between partitions: the dtype, or "category" for categories.

    Partitions of a column with unknown categories declare their own
    categories; anything else must match exactly.
    """
    return "category" if isinstance(dtype, pd.CategoricalDtype) else str(dtype)


def check_dtypes(part, meta, what):
    """A partition's columns and dtypes must be those of the collection's metadata."""
    if isinstance(meta, pd.DataFrame):
        if list(part.columns) != list(meta.columns):
            raise ValueError(
                f"{what} has the columns {list(part.columns)} but the DataFrame's "
                f"metadata says {list(meta.columns)}."
            )
        pairs = zip(meta.columns, part.dtypes, meta.dtypes)
    else:
        pairs = [(getattr(meta, "name", None), getattr(part, "dtype", None), meta.dtype)]
    for column, found, expected in pairs:
        if dtype_key(found) != dtype_key(expected) or (
            isinstance(expected, pd.CategoricalDtype)
            and _known_categories(expected) and found != expected
        ):
            subject = "Its values have" if column is None else f"Column {column!r} has"
            raise ValueError(
                f"{subject} dtype {found} in {what} but {expected} in the collection's "
                "metadata (its .dtypes): the partitions of a Dask collection must agree on "
                "each column's dtype. Cast the column to one dtype (e.g. "
                f"X.astype({{{column!r}: '{expected}'}})), or give read_csv / read_parquet "
                "its dtypes."
            )


def _known_categories(dtype):
    return "__UNKNOWN_CATEGORIES__" not in list(dtype.categories)


class Partitions:
    """The paired row partitions of ``X``, ``y`` and ``sample_weight``.

    Parameters
    ----------
    X : dask.dataframe.DataFrame
    y, sample_weight : Dask Series, DataFrame or array, or None
        Partitioned like ``X`` (checked here, and row by row where the
        partitions are read).
    names : tuple of str, default=("X", "y", "sample_weight")
        How errors name the collections.
    """

    def __init__(self, X, y, sample_weight=None, names=("X", "y", "sample_weight")):
        self.X, self.names = X, names
        self.meta = X._meta
        self.X_parts = list(X.to_delayed())
        self.y_meta = getattr(y, "_meta", None)
        self.y_parts = self._paired(y, names[1])
        self._weights = None
        if sample_weight is not None and not dask.is_dask_collection(sample_weight):
            # Weights in the client's memory: split like X once its partitions
            # are counted (split_weights).
            self._weights = np.asarray(sample_weight)
            sample_weight = None
        self.weight_parts = self._paired(sample_weight, names[2])

    def _paired(self, data, name):
        if data is None:
            return [None] * len(self.X_parts)
        _check_alignment(self.X, data, name)
        return _row_parts(data, name)

    def split_weights(self, partition_rows):
        """In-memory sample weights cut into the partitions' rows (counted by a scan)."""
        if self._weights is None:
            return
        if self._weights.ndim != 1 or len(self._weights) != sum(partition_rows):
            raise ValueError(
                f"{self.names[2]} has shape {self._weights.shape} but X has "
                f"{sum(partition_rows)} rows: pass one weight per row (or a Dask Series "
                "partitioned like X)."
            )
        self.weight_parts = np.split(self._weights, np.cumsum(partition_rows)[:-1])

    def __len__(self):
        return len(self.X_parts)


def _same(value):
    """``value`` itself: a task whose result is ``value`` (see :meth:`Kept.share`)."""
    return value


class Kept:
    """Futures kept on the workers, one per partition or per worker's run of partitions.

    Parameters
    ----------
    client : distributed.Client
    futures : list of Future
    groups : list of list of int
        Indices into ``futures``: each worker's run (non-empty).
    addresses : list of str
        The worker of each run.
    """

    def __init__(self, client, futures, groups, addresses):
        self.client, self.futures = client, list(futures)
        self.groups, self.addresses = groups, addresses

    @classmethod
    def placed(cls, client, addresses, sizes):
        """No futures yet: runs of consecutive items balanced by their ``sizes``.

        Runs may be fewer than workers when there are fewer items.
        """
        groups = contiguous_groups(sizes, len(addresses))
        kept = [(g, a) for g, a in zip(groups, addresses) if g]
        return cls(client, [None] * len(sizes), [g for g, _ in kept], [a for _, a in kept])

    def _submit(self, function, args, address):
        return self.client.submit(function, *args, workers=[address], allow_other_workers=True,
                                  pure=False)

    def compute_each(self, function, items, *args):
        """``function(*args, *items[i])`` for each item of the runs, on its run's worker.

        ``items`` may hold Dask collections' delayed partitions: they are
        computed with the task, on the same worker (so that reading or
        generating a partition happens where it is kept). ``args`` are
        shared by every task (one copy in the graph).
        """
        shared = [dask.delayed(arg) for arg in args]
        futures = [None] * len(self.futures)
        for group, address in zip(self.groups, self.addresses):
            tasks = [dask.delayed(function, pure=False)(*shared, *items[i]) for i in group]
            computed = self.client.compute(tasks, workers=[address], allow_other_workers=True)
            for i, future in zip(group, computed):
                futures[i] = future
        return Kept(self.client, futures, self.groups, self.addresses)

    def submit_groups(self, function, *args, per_group=None):
        """``function(*args, *per_group[g], results_of_run_g)`` once per run, on its worker.

        Returns a :class:`Kept` of one future per run.
        """
        per_group = per_group or [()] * len(self.groups)
        futures = [
            self._submit(function, (*args, *extra, [self.futures[i] for i in group]), address)
            for group, address, extra in zip(self.groups, self.addresses, per_group)
        ]
        return Kept(self.client, futures, [[g] for g in range(len(futures))], self.addresses)

    def map_groups(self, function, *args, per_group=None):
        """As :meth:`submit_groups`, the results gathered (in run order)."""
        kept = self.submit_groups(function, *args, per_group=per_group)
        try:
            return gather(self.client, kept.futures)
        finally:
            kept.release()

    def subset(self, runs):
        """A :class:`Kept` of the given runs (of single futures); the others are released."""
        for g, group in enumerate(self.groups):
            if g not in runs:
                for i in group:
                    self.futures[i].release()
        return Kept(self.client, [self.futures[self.groups[g][0]] for g in runs],
                    [[r] for r in range(len(runs))], [self.addresses[g] for g in runs])

    def share(self, value):
        """``value`` for every task of a fit, as one future its tasks depend on.

        For what every task of a fit reads and never changes (the network's
        recipe), sent once at the start. It is the result of a task, not
        scattered data: dask's active memory manager keeps one copy of a result
        that no task is waiting for, and a scattered value whose last holder
        dies is lost with every task that needs it, whereas a task's result is
        computed again. What changes from task to task (the parameters) goes
        with each task instead.
        """
        return self.client.submit(_same, value, pure=False)

    def release(self):
        """Let the workers free these results."""
        for future in self.futures:
            if future is not None:
                future.release()
        self.futures = []
