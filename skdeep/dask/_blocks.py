"""Training blocks on the workers: encoded once, grouped by worker, never gathered.

A fit turns each row block of ``X``, ``y`` and ``sample_weight`` into
encoded training arrays on a worker (:class:`BlockEncoder`, the same
validation and encoding as an in-memory fit, applied per block) and keeps
them there as futures. The blocks are split into one contiguous group per
worker, balanced by rows; every step of training is one task per group, on
the worker that holds it, whose small result is all that comes back.
Grouping by block index rather than by where the scheduler happened to put
a block keeps a fit reproducible for a fixed chunking and worker count.
"""

from dataclasses import dataclass

import dask
import numpy as np
from dask.sizeof import sizeof

from .._inputs import as_training_array, check_sample_weight, encode_inputs
from .._validation import TrainingData, can_hold_out, split_validation
from ._cluster import gather, naming

__all__ = ["BlockEncoder", "BlockSet", "PreparedBlock", "contiguous_groups"]


@dataclass
class PreparedBlock:
    """One block's encoded rows: those trained on, and those held out (or None)."""

    train: TrainingData
    validation: TrainingData = None


@sizeof.register(TrainingData)
def _sizeof_training_data(data):
    return sum(sizeof(a) for a in data.astuple() if a is not None)


@sizeof.register(PreparedBlock)
def _sizeof_prepared_block(block):
    # The workers' memory accounting (spilling, pausing) sees the arrays.
    return sum(sizeof(part) for part in (block.train, block.validation) if part is not None)


class BlockEncoder:
    """Validates and encodes one raw block on a worker, as ``fit`` encodes its data.

    Parameters
    ----------
    estimator : skdeep.dask estimator
        An unfitted copy of the estimator being fitted: its target encoding
        and class weights (``class_weight="balanced"`` already turned into
        the dictionary of the whole data's class counts).
    fitted : estimator instance
        Carries the fitted input and target attributes (``n_features_in_``,
        the label binarizer) the blocks are encoded against.
    dtype : numpy dtype
        The compute dtype.
    validation_fraction : float or None
        Fraction of each block held out for early stopping; None holds out
        nothing.
    """

    def __init__(self, estimator, fitted, dtype, validation_fraction=None):
        self.estimator, self.fitted, self.dtype = estimator, fitted, np.dtype(dtype)
        self.validation_fraction = validation_fraction

    def encode(self, X, y, sample_weight):
        """The block as :class:`TrainingData` in the compute dtype."""
        estimator, fitted, dtype = self.estimator, self.fitted, self.dtype
        X = as_training_array(encode_inputs(fitted, X), dtype)
        if len(y) != X.shape[0]:
            raise ValueError(f"A block of y has {len(y)} rows but its block of X has "
                             f"{X.shape[0]}.")
        Y = np.ascontiguousarray(
            estimator._encode_block_target(fitted, y), dtype=estimator._target_dtype(dtype)
        )
        # One block's weights may all be zero when others are not: the client
        # checks the total (block_sizes), so a block checks its rows only.
        weights = check_sample_weight(sample_weight, X.shape[0], dtype, require_positive=False)
        weights = estimator._effective_sample_weight(fitted, Y, weights, dtype,
                                                     require_positive=False)
        if weights is not None and not weights.any():
            # Rows of weight 0 change nothing: the block is as good as empty.
            return TrainingData(X[:0], Y[:0], weights[:0])
        return TrainingData(X, Y, weights)

    def prepare(self, X, y, sample_weight, split_seed):
        """The block's :class:`PreparedBlock`; ``split_seed`` seeds its held-out rows."""
        data = self.encode(X, y, sample_weight)
        if self.validation_fraction is None or not can_hold_out(data.X.shape[0],
                                                                self.validation_fraction):
            # Too few rows to split (or none of weight): all train; the client
            # checks that the blocks held out some rows in all.
            return PreparedBlock(data)
        stratify = self.estimator._split_stratify(data.Y)
        train, held_out = split_validation(
            data, self.validation_fraction, stratify, np.random.RandomState(split_seed)
        )
        return PreparedBlock(train, held_out)

    def prepare_validation(self, X, y, sample_weight):
        """A block of an explicit validation set: every row held out."""
        return PreparedBlock(None, self.encode(X, y, sample_weight))


def _prepare(encoder, block, X, y, sample_weight, split_seed):
    with naming(block):
        return encoder.prepare(X, y, sample_weight, split_seed)


def _prepare_validation(encoder, block, X, y, sample_weight):
    with naming(block):
        return encoder.prepare_validation(X, y, sample_weight)


def _block_name(data, index, start, n_rows):
    return f"row block {index} (rows {start} to {start + n_rows - 1}) of the {data}"


def _row_blocks(array):
    """The delayed row blocks of a Dask array split along rows only."""
    return list(array.to_delayed().ravel())


def contiguous_groups(rows, n_groups):
    """Block indices split into ``n_groups`` runs of consecutive blocks, balanced by rows.

    Runs may be empty when there are fewer blocks than groups.
    """
    rows = np.asarray(rows, dtype=float)
    starts = np.concatenate([[0.0], np.cumsum(rows)[:-1]])
    total = max(rows.sum(), 1.0)
    # A block belongs to the group in which its first row falls.
    owner = np.minimum((starts * n_groups / total).astype(int), n_groups - 1)
    return [list(np.flatnonzero(owner == g)) for g in range(n_groups)]


class BlockSet:
    """The prepared blocks of one fit, as futures, and the tasks run on them.

    Parameters
    ----------
    client : distributed.Client
    futures : list of Future
        One :class:`PreparedBlock` per non-empty row block, in block order.
    groups : list of list of int
        Indices into ``futures``, one run per worker.
    addresses : list of str
        The worker each group was placed on (a soft restriction: another
        worker takes over when it leaves).
    """

    def __init__(self, client, futures, groups, addresses):
        self.client, self.futures = client, futures
        self.groups = [group for group in groups if group]
        self.addresses = [a for group, a in zip(groups, addresses) if group]

    @classmethod
    def prepare(cls, client, addresses, encoder, X, y, sample_weight, split_seeds=None,
                validation_only=False):
        """Encode every row block of ``X``, ``y``, ``sample_weight`` on the workers.

        Each group's blocks (and the tasks that make them, such as
        ``dask.array.random`` chunks) are computed on the group's worker, so
        that nothing moves between workers to start training.
        """
        rows = np.asarray(X.chunks[0])
        starts = np.concatenate([[0], np.cumsum(rows)[:-1]])
        keep = np.flatnonzero(rows > 0)  # an empty block has nothing to validate or train
        X_blocks, y_blocks = _row_blocks(X), _row_blocks(y)
        w_blocks = [None] * len(X_blocks) if sample_weight is None else _row_blocks(
            sample_weight
        )
        shared_encoder = dask.delayed(encoder)
        tasks = []
        for i in keep:
            block = _block_name("validation data" if validation_only else "training data", i,
                                starts[i], rows[i])
            if validation_only:
                task = dask.delayed(_prepare_validation, pure=True)(
                    shared_encoder, block, X_blocks[i], y_blocks[i], w_blocks[i]
                )
            else:
                seed = None if split_seeds is None else int(split_seeds[i])
                task = dask.delayed(_prepare, pure=True)(
                    shared_encoder, block, X_blocks[i], y_blocks[i], w_blocks[i], seed
                )
            tasks.append(task)
        groups = contiguous_groups(rows[keep], len(addresses))
        futures = [None] * len(tasks)
        for group, address in zip(groups, addresses):
            if not group:
                continue
            group_futures = client.compute(
                [tasks[i] for i in group], workers=[address], allow_other_workers=True
            )
            for i, future in zip(group, group_futures):
                futures[i] = future
        return cls(client, futures, groups, addresses)

    def map_groups(self, function, *args):
        """``function(*args, blocks)`` on each group's worker; results in group order."""
        futures = [
            self.client.submit(
                function, *args, [self.futures[i] for i in group],
                workers=[address], allow_other_workers=True, pure=False,
            )
            for group, address in zip(self.groups, self.addresses)
        ]
        return gather(self.client, futures)

    def release(self):
        """Drop this fit's hold on the blocks, so the workers can free them."""
        for future in self.futures:
            future.release()
        self.futures = []
