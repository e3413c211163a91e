"""The solvers of a distributed fit: what each worker computes, what the client combines.

L-BFGS (:class:`DistributedObjective`)
    The full-data objective is a weighted mean, so it is a sum of per-block
    sums: each worker returns, for its blocks, the sum over rows of the
    sample-weighted loss and of its gradient (the engine's own
    ``loss_and_gradient`` on each block, multiplied back by the block's
    weight), and the client divides the total by the total weight and adds
    the L2 penalty of the whole once. That is exactly the in-memory
    objective up to the order of floating-point summation, and SciPy's
    L-BFGS runs on the client on it unchanged.

Adam / SGD (:class:`ParameterAveraging`)
    One epoch is one round of local SGD: every worker starts from the
    client's parameters and optimizer state, makes one shuffled pass of
    mini-batch steps over its own blocks, and sends back its parameters and
    optimizer state; the client averages both, weighted by rows. Stopping
    rules, schedules and early stopping run on the client between rounds,
    in the training loop of an in-memory fit.

Per round or evaluation, each worker receives the parameter vector (and
the optimizer's state) and returns one vector of the same size plus a few
numbers.
"""

import copy
from dataclasses import dataclass

import numpy as np
from dask.sizeof import sizeof

from .. import _options
from .._engine import Network
from .._training import EpochRunner, InMemoryEpochs, LbfgsObjective, predicts_finite
from ._cluster import gather

__all__ = [
    "BlockScorer",
    "accuracy_from_sums",
    "accuracy_sums",
    "DistributedEvaluator",
    "DistributedObjective",
    "NetworkRecipe",
    "ParameterAveraging",
    "block_sizes",
    "r2_from_sums",
    "r2_sums",
]

#: Rows of a block that go through the network at once when summing the
#: L-BFGS objective: bounds a worker's buffers whatever the block size.
ROWS_PER_PASS = 16384


@dataclass
class NetworkRecipe:
    """How to rebuild the client's network on a worker (a Network's pickle
    would copy its parameter views apart from its flat vector)."""

    layer_units: list
    hidden_activations: list
    output_activation: str
    dtype: object
    dropout: list
    loss: object

    @classmethod
    def of(cls, network):
        """The recipe of ``network`` (its loss object, with its settings, included)."""
        return cls(list(network.layer_units), list(network.hidden_activations),
                   network.output_activation, network.dtype, list(network.dropout),
                   network.loss)

    def build(self, params):
        """A new network with a copy of ``params``."""
        network = Network(self.layer_units, self.hidden_activations, self.output_activation,
                          self.dtype, dropout=self.dropout, loss=copy.copy(self.loss))
        network.params[...] = params
        return network


def _weight(data):
    """Total sample weight of encoded rows (their count, without weights)."""
    return float(data.X.shape[0]) if data.sample_weight is None else float(
        data.sample_weight.sum()
    )


def _group_sizes(blocks):
    """``[train rows, train weight, validation rows, validation weight]`` of a group."""
    sizes = np.zeros(4)
    for block in blocks:
        for offset, part in ((0, block.train), (2, block.validation)):
            if part is not None:
                sizes[offset] += part.X.shape[0]
                sizes[offset + 1] += _weight(part)
    return sizes


def block_sizes(blocks):
    """Rows and total weight of the training and held-out parts, over all groups."""
    train_rows, train_weight, val_rows, val_weight = np.sum(
        blocks.map_groups(_group_sizes), axis=0
    )
    return int(train_rows), float(train_weight), int(val_rows), float(val_weight)


def _first_rows_finite(recipe, params, blocks):
    """Whether the first rows of a group's first non-empty block predict finitely."""
    for block in blocks:
        part = block.train if block.train is not None else block.validation
        if part.X.shape[0]:
            return predicts_finite(recipe.build(params), part.X)
    return True


# --------------------------------------------------------------------------
# L-BFGS: the exact full-data objective as a sum over workers
# --------------------------------------------------------------------------


def _summed_loss_and_grad(recipe, params, blocks):
    """Sum over the rows of ``blocks`` of the weighted loss and of its gradient.

    The engine returns the weighted *mean* of a slice; multiplying it by the
    slice's weight gives the slice's sum, and sums add up across slices,
    blocks and workers.
    """
    network = recipe.build(params)
    loss_sum, grad_sum = 0.0, np.zeros(network.params.size)
    largest = max(min(block.train.X.shape[0], ROWS_PER_PASS) for block in blocks)
    if largest == 0:  # every block of the group had weight 0
        return loss_sum, grad_sum
    workspace = network.new_workspace(largest)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for block in blocks:
            X, Y, weights = block.train.astuple()
            for start in range(0, X.shape[0], ROWS_PER_PASS):
                rows = slice(start, start + ROWS_PER_PASS)
                part_weights = None if weights is None else weights[rows]
                mean = network.loss_and_gradient(X[rows], Y[rows], part_weights, 0.0, workspace)
                weight = X[rows].shape[0] if part_weights is None else float(part_weights.sum())
                loss_sum += mean * weight
                grad_sum += network.grad * weight
    return loss_sum, grad_sum


class DistributedObjective(LbfgsObjective):
    """The in-memory L-BFGS objective, summed over the workers' blocks.

    Parameters
    ----------
    blocks : BlockSet
        The prepared training blocks.
    network : Network
        The client's network: its layout gives the penalised parameters.
    alpha : float
        L2 penalty, added once for the whole data.
    total_weight : float
        Total sample weight of the training rows (their count, without
        weights): the in-memory objective's normaliser.
    """

    def __init__(self, blocks, network, alpha, total_weight):
        self.blocks, self.network = blocks, network
        self.recipe = NetworkRecipe.of(network)
        self.alpha, self.total_weight = alpha, total_weight

    def loss_and_grad(self, flat_params):
        network = self.network
        network.params[...] = flat_params
        # Sent with each task, not scattered: every task can then be recomputed
        # from the graph when a worker dies (a scattered value whose only holder
        # dies before it is replicated is lost, and its tasks are cancelled).
        params = network.params.copy()
        parts = self.blocks.map_groups(_summed_loss_and_grad, self.recipe, params)
        loss = sum(part[0] for part in parts) / self.total_weight
        network.grad[...] = sum(part[1] for part in parts) / self.total_weight
        if self.alpha and self.total_weight > 0:
            with np.errstate(over="ignore", invalid="ignore"):
                loss += network.add_l2_penalty(self.alpha / self.total_weight)
        return loss, network.grad.astype(np.float64)

    def predictions_finite(self, network):
        return all(self.blocks.map_groups(_first_rows_finite, self.recipe, network.params))


# --------------------------------------------------------------------------
# Adam / SGD: periodic parameter averaging, one round per epoch
# --------------------------------------------------------------------------


@dataclass
class LocalPass:
    """What one worker returns from a round: its model and the pass's loss."""

    params: np.ndarray
    optimizer_state: dict
    loss_sum: float
    n_rows: int
    learning_rate: float


@sizeof.register(LocalPass)
def _sizeof_local_pass(result):
    return sizeof(result.params) + sizeof(result.optimizer_state) + 64


def _batches_of(blocks, batch_size):
    return sum(-(-block.train.X.shape[0] // batch_size) for block in blocks)


def _local_pass(recipe, estimator, start, schedule, epoch, config, seed, blocks):
    """One shuffled pass of mini-batch steps over a worker's blocks.

    The blocks are visited in a random order, each one's rows shuffled and
    cut into mini-batches (no mini-batch mixes two blocks); per-batch
    learning rates run over the worker's batches as over one epoch.
    """
    params, optimizer_state = start
    network = recipe.build(params)
    optimizer = _options.optimizer_for(estimator, network)
    optimizer.load_state_dict(optimizer_state)
    random_state = np.random.RandomState(seed)
    blocks = [block for block in blocks if block.train.X.shape[0] > 0]
    rates = schedule.batch_rates(epoch, _batches_of(blocks, config.batch_size))
    order = random_state.permutation(len(blocks)) if config.shuffle else range(len(blocks))
    loss_sum, n_rows, done = 0.0, 0, 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for index in order:
            epochs = InMemoryEpochs(network, blocks[index].train.astuple(), config,
                                    random_state)
            block_rates = None if rates is None else rates[done : done + epochs.n_batches]
            loss_sum += epochs.run_pass(network, optimizer, block_rates) * epochs.n_samples
            n_rows += epochs.n_samples
            done += epochs.n_batches
    learning_rate = optimizer.learning_rate if not rates else max(rates)
    return LocalPass(network.params, optimizer.state_dict(), loss_sum, n_rows, learning_rate)


def _weighted_mean(values, shares):
    return sum(share * np.asarray(value, dtype=np.float64) for value, share in zip(values, shares))


def average_states(states, shares):
    """Optimizer states averaged key by key: moments weighted by ``shares``.

    Step counters (Adam's ``t``) become the weighted mean number of steps,
    rounded; the learning rate, the same on every worker, is kept.
    """
    averaged = {}
    for key, first in states[0].items():
        values = [state[key] for state in states]
        if isinstance(first, np.ndarray):
            averaged[key] = _weighted_mean(values, shares).astype(first.dtype)
        elif key == "learning_rate":
            averaged[key] = first
        elif isinstance(first, (int, np.integer)):
            averaged[key] = round(float(_weighted_mean(values, shares)))
        else:
            averaged[key] = float(_weighted_mean(values, shares))
    return averaged


class ParameterAveraging(EpochRunner):
    """Epochs as rounds of local SGD on the workers, averaged on the client.

    Parameters
    ----------
    blocks : BlockSet
        The prepared training blocks.
    network : Network
        The client's network (its recipe is sent to the workers).
    estimator : estimator instance
        An unfitted copy of the estimator: the workers build the same
        update rule from its parameters.
    config : StochasticConfig
        Batch size, shuffling, penalty, clipping.
    n_samples : int
        Training rows over all blocks.
    random_state : numpy.random.RandomState
        Draws each round's seed for each worker (its block order, shuffles
        and dropout masks).
    """

    def __init__(self, blocks, network, estimator, config, n_samples, random_state):
        self.blocks, self.estimator, self.config = blocks, estimator, config
        self.recipe = NetworkRecipe.of(network)
        self.n_samples = n_samples
        self.random_state = random_state

    def run_epoch(self, network, optimizer, schedule, epoch):
        seeds = self.random_state.randint(np.iinfo(np.int32).max, size=len(self.blocks.groups))
        start = (network.params.copy(), optimizer.state_dict())  # with each task
        passes = [
            self.blocks.client.submit(
                _local_pass, self.recipe, self.estimator, start, schedule, epoch, self.config,
                int(seed), [self.blocks.futures[i] for i in group],
                workers=[address], allow_other_workers=True, pure=False,
            )
            for seed, group, address in zip(seeds, self.blocks.groups, self.blocks.addresses)
        ]
        results = [r for r in gather(self.blocks.client, passes) if r.n_rows > 0]
        n_rows = sum(r.n_rows for r in results)
        shares = [r.n_rows / n_rows for r in results]
        network.params[...] = _weighted_mean([r.params for r in results], shares)
        optimizer.load_state_dict(average_states([r.optimizer_state for r in results], shares))
        learning_rate = max(r.learning_rate for r in results)
        return sum(r.loss_sum for r in results) / n_rows, learning_rate

    def predictions_finite(self, network):
        return all(self.blocks.map_groups(_first_rows_finite, self.recipe, network.params))


# --------------------------------------------------------------------------
# Validation: scores from per-block sums
# --------------------------------------------------------------------------


def _validation_sums(recipe, params, scorer, blocks):
    """``[weighted loss sum, weight, score sums...]`` over the held-out rows of ``blocks``."""
    network = recipe.build(params)
    sums = None
    with np.errstate(over="ignore", invalid="ignore"):
        for block in blocks:
            if block.validation is None or block.validation.X.shape[0] == 0:
                continue
            X, Y, weights = block.validation.astuple()
            logits = network.predict_logits(
                X, _options.max_predict_rows(network.predict_row_bytes, X.shape[0])
            )
            weight = _weight(block.validation)
            loss_sum = network.loss.value(logits, Y, weights) * weight
            part = np.concatenate([[loss_sum, weight], scorer.sums(logits, Y, weights)])
            sums = part if sums is None else sums + part
    return sums


def accuracy_sums(y_true, y_pred, weights):
    """``[weighted correct, total weight]`` of one block's predicted labels."""
    correct = np.asarray(y_true) == np.asarray(y_pred)
    if weights is None:
        return np.array([correct.sum(), correct.size], dtype=float)
    weights = np.asarray(weights, dtype=float)
    return np.array([np.dot(weights, correct), weights.sum()], dtype=float)


def accuracy_from_sums(sums):
    """Accuracy from the summed :func:`accuracy_sums` of all blocks."""
    return float(sums[0] / sums[1]) if sums[1] > 0 else np.nan


def r2_sums(y_true, y_pred, weights):
    """Per output: total weight, weighted sums of y and y**2, and the weighted SSE.

    Several predicted columns (quantile levels) for a 1-D ``y_true`` are each
    scored against it, as ``r2_of_predictions`` does.
    """
    y_pred = np.asarray(y_pred, dtype=float).reshape(len(y_pred), -1)
    y_true = np.asarray(y_true, dtype=float).reshape(len(y_true), -1)
    if y_true.shape[1] == 1 and y_pred.shape[1] > 1:
        y_true = np.repeat(y_true, y_pred.shape[1], axis=1)
    w = np.ones(len(y_true)) if weights is None else np.asarray(weights, dtype=float)
    return np.concatenate([
        np.full(y_true.shape[1], w.sum()), w @ y_true, w @ y_true**2,
        w @ (y_true - y_pred) ** 2,
    ])


def r2_from_sums(sums):
    """R^2 (averaged over outputs) from the summed :func:`r2_sums` of all blocks."""
    total, first, second, residual = np.asarray(sums).reshape(4, -1)
    spread = second - first**2 / total
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(spread > 0, 1 - residual / spread, np.where(residual == 0, 1.0, 0.0))
    return float(np.mean(r2))


def check_summable_scoring(estimator, unit):
    """Refuse a validation score that cannot be summed over ``unit``s (blocks, partitions).

    The distributed estimators score their validation rows from per-``unit``
    sums: the default score (accuracy, R^2) or the loss.
    """
    if estimator._monitored_scoring() not in (None, "loss"):
        raise ValueError(
            f"scoring={estimator.scoring!r} cannot be computed {unit} by {unit}; "
            "skdeep.dask estimators validate with scoring=None (accuracy for "
            "classifiers, R^2 for regressors) or scoring='loss'."
        )


class BlockScorer:
    """The validation score as a sum over blocks (sent to the workers).

    Parameters
    ----------
    estimator : skdeep.dask estimator
        Unfitted copy: decodes logits and targets, and turns predictions
        into sums (``_score_sums``) and sums into the score
        (``_score_from_sums``).
    fitted : estimator instance
        The fitted target attributes decoding needs (label binarizer,
        output activation).
    """

    def __init__(self, estimator, fitted):
        self.estimator, self.fitted = estimator, fitted

    def sums(self, logits, Y, weights):
        """The score's sums over one block's rows."""
        y_pred = self.estimator._decode(self.fitted, logits)
        y_true = self.estimator._decode_target(self.fitted, Y)
        return self.estimator._score_sums(y_true, y_pred, weights)

    def score(self, sums):
        """The score of all rows from their summed ``sums``."""
        return self.estimator._score_from_sums(sums)


class DistributedEvaluator:
    """``evaluate(network) -> (score, loss)`` on the held-out rows of the workers.

    The score is computed from sums over the blocks (accuracy: weighted
    correct and total; R^2: weighted moments of ``y`` and of the
    residuals), so only a few numbers per worker travel.

    Parameters
    ----------
    blocks : BlockSet
        Blocks with a ``validation`` part.
    network : Network
        The client's network.
    scorer : BlockScorer
        Turns logits into score sums on a worker, and sums into a score.
    use_loss : bool
        Score with minus the validation loss (``scoring="loss"``).
    """

    def __init__(self, blocks, network, scorer, use_loss):
        self.blocks, self.scorer, self.use_loss = blocks, scorer, use_loss
        self.recipe = NetworkRecipe.of(network)

    def __call__(self, network):
        params = network.params.copy()  # with each task (see DistributedObjective)
        parts = [p for p in self.blocks.map_groups(_validation_sums, self.recipe, params,
                                                   self.scorer) if p is not None]
        sums = np.sum(parts, axis=0)
        loss = float(sums[0] / sums[1]) if sums[1] > 0 else 0.0
        if self.use_loss:
            return -loss, loss
        return self.scorer.score(sums[2:]), loss
