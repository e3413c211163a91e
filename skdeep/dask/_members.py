"""An ensemble of tabular networks trained on the workers' encoded rows.

The workers hold the encoded partitions of the table, one run of
consecutive partitions each, concatenated into a :class:`MemberGroup`:
every member of the ensemble trains on its own rows of it and holds out
its own rows of every partition for validation, as an in-memory fit holds
out its own rows of the table.

Two ways to run an epoch (``fit_members``' ``epochs``):

:class:`MemberSteps` (``sync="step"``)
    The in-memory epoch, step by step: each step takes a share of every
    worker's rows, the workers return the sums of their losses and
    gradients, and the client makes the update. One round trip per step,
    straight to the workers' :class:`StepActor` where the client reaches
    them, through the scheduler as tasks otherwise.
:class:`MemberRounds` (``sync="epoch"``)
    One round per epoch: every worker starts from the client's parameters
    and optimizer state, runs the steps of an in-memory epoch
    (:func:`~skdeep._member_training.member_epoch`) on its own rows with
    its share of each batch, and sends back its parameters and optimizer
    state; the client averages them, weighted by rows.

Validation sums the held-out rows' losses and score sums over the workers
(:class:`MemberEvaluation`).
"""

from dataclasses import dataclass

import numpy as np
from dask.sizeof import sizeof

from .._engine.members import DropoutNoise
from .._inputs import check_sample_weight
from .._member_training import MemberData, member_epoch, member_rows_logits
from .._options import max_predict_rows
from .._tabular_inputs import encode_tabular
from .._validation import can_hold_out, validation_rows
from ._cluster import gather, naming, reaches_workers
from ._solvers import average_states
from ._table_inputs import encoded_value_tables, merged_tables

__all__ = [
    "EncodedPartition",
    "MemberEvaluation",
    "MemberGroup",
    "MemberRounds",
    "MemberSteps",
    "NetworkRecipe",
    "StepActor",
    "PartitionEncoder",
]


@dataclass
class EncodedPartition:
    """One partition's encoded rows, and each member's training and held-out rows of it.

    Attributes
    ----------
    X, Y : ndarray
        Encoded inputs and targets in the compute dtype.
    sample_weight : ndarray or None
    train_rows, held_out_rows : ndarray of shape (n_members, n) of int
        Each member's rows of the partition (the same number for every
        member).
    """

    X: np.ndarray
    Y: np.ndarray
    sample_weight: np.ndarray
    train_rows: np.ndarray
    held_out_rows: np.ndarray


@sizeof.register(EncodedPartition)
def _sizeof_encoded(part):
    # The workers' memory accounting (spilling, pausing) sees the arrays.
    return sum(sizeof(a) for a in (part.X, part.Y, part.sample_weight, part.train_rows,
                                   part.held_out_rows) if a is not None)


class PartitionEncoder:
    """Encodes raw partitions on the workers, as an in-memory fit encodes its table.

    Parameters
    ----------
    estimator : estimator instance
        An unfitted copy of the estimator: target encoding, class weights
        (a "balanced" one already turned into the table's counts) and the
        validation split.
    fitted : estimator instance
        Carries the fitted input and target attributes.
    dtype : numpy dtype
        The compute dtype.
    n_members : int
        Members of the ensemble.
    validation_fraction : float or None
        Fraction of each partition every member holds out (None: none).
    value_tables : bool
        Also return the distinct values of the scaled numeric columns (for
        the quantile bins).
    target_name : str, default="y"
        How errors name the target ("y_val" for validation data).
    """

    def __init__(self, estimator, fitted, dtype, n_members, validation_fraction, value_tables,
                 target_name="y"):
        self.estimator, self.fitted, self.dtype = estimator, fitted, np.dtype(dtype)
        self.n_members = int(n_members)
        self.validation_fraction = validation_fraction
        self.value_tables = value_tables
        self.target_name = target_name

    def encode(self, what, X, y, sample_weight, seeds):
        """``(EncodedPartition, value tables or None)`` of one raw partition.

        ``seeds`` seeds each member's held-out rows; None holds out none, or
        (for validation data, ``seeds="all"``) all.
        """
        estimator, fitted = self.estimator, self.fitted
        if len(X) == 0:
            return None, None
        with naming(what):
            encoded = encode_tabular(fitted, X)
            if len(y) != encoded.shape[0]:
                raise ValueError(f"{self.target_name} has {len(y)} rows but X has "
                                 f"{encoded.shape[0]}.")
            Y = np.ascontiguousarray(estimator._encode_target(fitted, y, self.target_name),
                                     dtype=estimator._target_dtype(self.dtype))
            weights = check_sample_weight(sample_weight, len(Y), self.dtype,
                                          require_positive=False)
            weights = estimator._effective_sample_weight(fitted, Y, weights, self.dtype,
                                                         require_positive=False)
        tables = None
        if self.value_tables:
            tables = encoded_value_tables(len(fitted.numeric_center_), encoded)
        X = np.ascontiguousarray(encoded, dtype=self.dtype)
        train, held_out = self._rows(len(Y), Y, seeds)
        return EncodedPartition(X, Y, weights, train, held_out), tables

    def _rows(self, n, Y, seeds):
        """Each member's training and held-out rows of a partition of ``n`` rows."""
        everything = np.tile(np.arange(n), (self.n_members, 1))
        nothing = np.empty((self.n_members, 0), dtype=everything.dtype)
        if isinstance(seeds, str):
            return nothing, everything
        if seeds is None or not can_hold_out(n, self.validation_fraction):
            # Too few rows to split: all train; the client checks that the
            # partitions held out some rows in all.
            return everything, nothing
        stratify = self.estimator._split_stratify(Y)
        splits = [validation_rows(n, self.validation_fraction, stratify,
                                  np.random.RandomState(seed)) for seed in seeds]
        return (np.stack([train for train, _ in splits]),
                np.stack([held_out for _, held_out in splits]))


def encode_partition(encoder, what, X, y, sample_weight, seeds):
    return encoder.encode(what, X, y, sample_weight, seeds)


@dataclass
class MemberGroup:
    """A worker's partitions, concatenated: shared arrays, each member's rows.

    Attributes
    ----------
    data : MemberData
        Encoded arrays and each member's training rows.
    held_out_rows : ndarray of shape (n_members, n_held_out)
        Each member's held-out rows.
    """

    data: MemberData
    held_out_rows: np.ndarray

    @classmethod
    def of(cls, parts):
        """The group of encoded partitions ``parts`` (in order)."""
        starts = np.cumsum([0, *(len(p.Y) for p in parts[:-1])])
        weights = None if parts[0].sample_weight is None else np.concatenate(
            [p.sample_weight for p in parts])
        data = MemberData(
            np.concatenate([p.X for p in parts]), np.concatenate([p.Y for p in parts]), weights,
            np.concatenate([p.train_rows + s for p, s in zip(parts, starts)], axis=1))
        held_out = np.concatenate([p.held_out_rows + s for p, s in zip(parts, starts)], axis=1)
        return cls(data, held_out)

    @property
    def n_train(self):
        return self.data.train_rows.shape[1]

    @property
    def n_held_out(self):
        return self.held_out_rows.shape[1]


@sizeof.register(MemberGroup)
def _sizeof_group(group):
    data = group.data
    return sum(sizeof(a) for a in (data.X, data.Y, data.sample_weight, data.train_rows,
                                   group.held_out_rows) if a is not None)


def build_group(parts):
    """The :class:`MemberGroup` of a worker's encoded partitions (None if all are empty)."""
    parts = [part for part, _ in parts if part is not None]
    return MemberGroup.of(parts) if parts else None


def group_value_tables(parts):
    """The merged value tables of a worker's encoded partitions (None if all are empty)."""
    tables = [tables for _, tables in parts if tables is not None]
    return merged_tables(tables) if tables else None


def group_sizes(groups):
    """``(training rows, held-out rows, rows, training weight)`` of a worker's group.

    The training weight is the first member's (every member's is about
    the same); an empty group has only zeros.
    """
    (group,) = groups
    if group is None:
        return 0, 0, 0, 0.0
    data = group.data
    weight = (float(group.n_train) if data.sample_weight is None
              else float(data.sample_weight[data.train_rows[0]].sum()))
    return group.n_train, group.n_held_out, len(data.Y), weight


def rows_of(positions, groups):
    """Per member, the encoded inputs and targets of the given rows of a worker's group."""
    (group,) = groups
    return [(group.data.X[p], group.data.Y[p]) for p in positions]


@dataclass
class NetworkRecipe:
    """How a worker builds the client's network: the estimator and its input state."""

    estimator: object
    fitted: dict
    n_members: int
    n_inputs: int
    n_outputs: int
    dtype: object

    def build(self, params):
        network = self.estimator._empty_network(self.fitted, self.n_members, self.n_inputs,
                                                self.n_outputs, self.dtype)
        network.params[...] = params
        return network


@dataclass
class RoundResult:
    """What one worker returns from a round."""

    params: np.ndarray
    optimizer_state: dict
    losses: np.ndarray
    n_train: int
    learning_rate: float


@sizeof.register(RoundResult)
def _sizeof_round(result):
    return sizeof(result.params) + sizeof(result.optimizer_state) + 64


def _round(recipe, start, schedule, epoch, batch_size, seeds, groups):
    """One epoch of steps of every member on a worker's rows, from the client's state."""
    (group,) = groups
    params, optimizer_state = start
    network = recipe.build(params)
    optimizer = recipe.estimator._optimizer(network)
    optimizer.load_state_dict(optimizer_state)
    random_states = [np.random.RandomState(seed) for seed in seeds]
    losses, learning_rate = member_epoch(network, optimizer, schedule, group.data, batch_size,
                                         epoch, random_states)
    return RoundResult(network.params, optimizer.state_dict(), losses, group.n_train,
                       learning_rate)


class MemberRounds:
    """Epochs as rounds of local epochs on the workers, averaged on the client.

    Each worker makes as many steps as an in-memory epoch, each on its
    share of the batch: averaged, the workers' steps are the in-memory step
    on the whole batch to first order in the learning rate. Adam's second
    moments are averaged too, and each worker's come from gradients of
    fewer rows, so the steps are somewhat shorter than in memory.

    Parameters
    ----------
    groups : Kept
        One :class:`MemberGroup` future per worker.
    recipe : Future
        The :class:`NetworkRecipe`, on every worker.
    network : TabularNetwork
        The client's network; its parameters are the averaged ones.
    optimizer : update rule
        The client's copy: its state is the averaged one.
    schedule : learning-rate schedule
        The fit's, sent to the workers with every round.
    batch_size : int
        The in-memory batch size; each worker takes its share of it.
    n_train : list of int
        Each worker's training rows (per member).
    random_states : list of numpy.random.RandomState
        Each member's: draws the seeds of its shuffles and dropout on every
        worker and round.
    """

    #: No local threads share the validation: the workers compute it.
    team = None

    def __init__(self, groups, recipe, network, optimizer, schedule, batch_size, n_train,
                 random_states):
        self.groups, self.recipe, self.schedule = groups, recipe, schedule
        self.network, self.optimizer = network, optimizer
        self.random_states = random_states
        total = sum(n_train)
        self.shares = [n / total for n in n_train]
        # Every worker makes the in-memory number of steps per epoch.
        n_steps = -(-total // batch_size)
        self.batch_sizes = [max(1, -(-n // n_steps)) for n in n_train]

    def close(self):
        """Nothing is kept on the workers between rounds."""

    def run_epoch(self, epoch):
        network, optimizer = self.network, self.optimizer
        seeds = np.array([random_state.randint(np.iinfo(np.int32).max,
                                               size=len(self.batch_sizes))
                          for random_state in self.random_states]).T
        # Sent with each task, not scattered: a task must be recomputable from
        # the graph alone when a worker dies (a scattered value whose holder
        # dies mid-transfer is lost, and the tasks that need it are cancelled).
        start = (network.params.copy(), optimizer.state_dict())
        client = self.groups.client
        futures = [
            client.submit(_round, self.recipe, start, self.schedule, epoch, batch_size,
                          group_seeds, [future], workers=[address], allow_other_workers=True,
                          pure=False)
            for batch_size, group_seeds, future, address in zip(
                self.batch_sizes, seeds, self.groups.futures, self.groups.addresses)
        ]
        results = gather(client, futures)
        network.params[...] = sum(share * r.params.astype(np.float64)
                                  for share, r in zip(self.shares, results))
        optimizer.load_state_dict(average_states([r.optimizer_state for r in results],
                                                 self.shares))
        losses = sum(share * r.losses for share, r in zip(self.shares, results))
        return losses, max(r.learning_rate for r in results)


# --------------------------------------------------------------------------
# Synchronous steps: every step's gradient summed over the workers
# --------------------------------------------------------------------------

#: On each worker: what the steps of a fit keep between tasks, by (fit, group).
_STEPPERS = {}


class _Stepper:
    """A worker's network, buffers and this epoch's row orders for one group of one fit.

    Only a cache: a task that finds none (a new worker, after a loss)
    rebuilds it from its arguments, with the same result.
    """

    def __init__(self, recipe, group, n_steps):
        self.network = recipe.build(0.0)
        self.epoch, self.orders = None, None
        k, data = self.network.n_members, group.data
        self.rows = -(-group.n_train // n_steps)
        # Buffers of the largest step, reused by every step (fresh pages cost).
        self.dropout = DropoutNoise(0)
        self.workspace = self.network.new_workspace(self.rows, self.dropout)
        self.X = np.empty((k, self.rows, data.X.shape[1]), data.X.dtype)
        self.Y = np.empty((k, self.rows, data.Y.shape[1]), data.Y.dtype)

    def step_rows(self, group, epoch, seeds, step, n_steps):
        """Each member's rows of this group in step ``step`` of ``epoch``."""
        n = group.n_train
        if self.epoch != epoch:
            self.orders = np.stack([train[np.random.RandomState(seed).permutation(n)]
                                    for train, seed in zip(group.data.train_rows, seeds)])
            self.epoch = epoch
        return self.orders[:, n * step // n_steps : n * (step + 1) // n_steps]

    def sums(self, group, rows, seeds, step):
        """Per member, its loss and weight sums over ``rows``; the gradient sum in ``grad``."""
        network, data = self.network, group.data
        k, m = rows.shape
        weights = None if data.sample_weight is None else data.sample_weight[rows]
        totals = (np.full(k, float(m)) if weights is None
                  else weights.sum(axis=1, dtype=np.float64))
        X = np.take(data.X, rows, axis=0, out=self.X[:, :m])
        Y = np.take(data.Y, rows, axis=0, out=self.Y[:, :m])
        self.dropout.restart(np.random.SeedSequence([*(int(s) for s in seeds), step]))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            # Scaled by each member's weight, the means become sums that add
            # up across the workers.
            losses = network.member_losses_and_gradient(X, Y, weights, self.workspace,
                                                        share=totals.astype(network.dtype))
        return np.asarray(losses, dtype=np.float64), totals


@dataclass
class StepResult:
    """A worker's part of a step: per member, its loss and weight sums, and the gradient sum."""

    losses: np.ndarray
    weights: np.ndarray
    n_rows: int
    grad: np.ndarray


@sizeof.register(StepResult)
def _sizeof_step(result):
    return sizeof(result.grad) + 64


def _step_sums(stepper, group, params, epoch, seeds, step, n_steps):
    """A worker's :class:`StepResult` of step ``step``, computed by its ``stepper``."""
    rows = stepper.step_rows(group, epoch, seeds, step, n_steps)
    if rows.shape[1] == 0:
        k = rows.shape[0]
        return StepResult(np.zeros(k), np.zeros(k), 0, None)
    stepper.network.params[...] = params
    losses, totals = stepper.sums(group, rows, seeds, step)
    return StepResult(losses, totals, rows.shape[1], stepper.network.grad.copy())


def _step(key, recipe, params, epoch, seeds, step, n_steps, groups):
    """The sums of a worker's part of step ``step``, as a task: losses, weights, gradient."""
    (group,) = groups
    stepper = _STEPPERS.get(key)
    if stepper is None:
        stepper = _STEPPERS[key] = _Stepper(recipe, group, n_steps)
    return _step_sums(stepper, group, params, epoch, seeds, step, n_steps)


class StepActor:
    """A worker's steps of one fit, as a Dask actor: called by the client straight.

    A task's round trip goes through the scheduler (about 11 ms for two
    workers on the benchmark machine), an actor call does not (about
    1 ms). An actor is not recomputed when its worker dies: the client
    then goes on with tasks (:func:`_step`), which compute the same sums.

    Parameters
    ----------
    recipe : NetworkRecipe
    n_steps : int
        Steps per epoch.
    groups : list of one MemberGroup
        The worker's group (a future when the actor is made).
    """

    def __init__(self, recipe, n_steps, groups):
        (self.group,) = groups
        self.n_steps = n_steps
        self.stepper = _Stepper(recipe, self.group, n_steps)

    def step(self, params, epoch, seeds, step):
        """This worker's :class:`StepResult` of step ``step`` of ``epoch``."""
        return _step_sums(self.stepper, self.group, params, epoch, seeds, step, self.n_steps)


def _forget(key):
    """Drop a fit's cached steppers on this worker."""
    for cached in [k for k in _STEPPERS if k[0] == key]:
        del _STEPPERS[cached]


class MemberSteps:
    """Epochs of synchronous steps: every step's gradient is summed over the workers.

    ``fit_members``' ``epochs``. Each step takes a share of every worker's
    training rows (per member: its rows in this epoch's order, cut into as
    many steps as an in-memory epoch makes of the whole table), the workers
    return the sums of the losses and gradients of their shares, and the
    client divides by the total weight and updates the parameters: the
    in-memory step on a batch of the in-memory size.

    Parameters
    ----------
    groups : Kept
        One :class:`MemberGroup` future per worker.
    recipe : Future
        The :class:`NetworkRecipe`, on every worker.
    network : TabularNetwork
        The client's network.
    optimizer : update rule
        The client's; it makes every update.
    schedule : learning-rate schedule
        Per-step rates (``batch_rates``), as in memory.
    batch_size : int
        The in-memory batch size.
    n_train : list of int
        Each worker's training rows (per member).
    random_states : list of numpy.random.RandomState
        Each member's: draws the seeds of its shuffles and dropout on every
        worker and epoch.
    key : str
        Names this fit's cached state on the workers.
    """

    #: No local threads share the validation: the workers compute it.
    team = None

    def __init__(self, groups, recipe, network, optimizer, schedule, batch_size, n_train,
                 random_states, key):
        self.groups, self.recipe = groups, recipe
        self.network, self.optimizer, self.schedule = network, optimizer, schedule
        self.random_states, self.key = random_states, key
        self.n_steps = max(1, -(-sum(n_train) // batch_size))
        self.member_indices = [network.member_indices(i) for i in range(network.n_members)]
        self.actors, self._actor_futures = None, []
        if reaches_workers(groups.client):
            self._start_actors()

    def run_epoch(self, epoch):
        network, optimizer = self.network, self.optimizer
        n_groups = len(self.groups.futures)
        seeds = np.array([rs.randint(np.iinfo(np.int32).max, size=n_groups)
                          for rs in self.random_states]).T
        rates = self.schedule.batch_rates(epoch, self.n_steps)
        losses, n_rows = np.zeros(network.n_members), 0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for step in range(self.n_steps):
                if rates is not None:
                    optimizer.learning_rate = rates[step]
                step_losses, rows = self._step(epoch, seeds, step)
                losses += step_losses * rows
                n_rows += rows
        learning_rate = optimizer.learning_rate if rates is None else max(rates)
        return losses / max(n_rows, 1), learning_rate

    def _step(self, epoch, seeds, step):
        """One update from the workers' sums; the step's mean losses and rows."""
        network = self.network
        results = [r for r in self._worker_sums(epoch, seeds, step) if r.n_rows]
        if not results:  # fewer rows than steps: this step has none
            return np.zeros(network.n_members), 0
        weights = np.sum([r.weights for r in results], axis=0)
        grad = network.grad
        grad[...] = results[0].grad
        for r in results[1:]:
            grad += r.grad
        scale = np.where(weights > 0, 1.0 / np.maximum(weights, 1e-300), 0.0)
        for i, index in enumerate(self.member_indices):
            grad[index] *= network.dtype.type(scale[i])
        self.optimizer.step(network.params, grad)
        losses = np.sum([r.losses for r in results], axis=0) * scale
        return losses, sum(r.n_rows for r in results)

    def _worker_sums(self, epoch, seeds, step):
        """Every worker's :class:`StepResult` of a step: from the actors, else by tasks."""
        params = self.network.params
        if self.actors is not None:
            try:
                calls = [actor.step(params, epoch, seeds[g], step)
                         for g, actor in enumerate(self.actors)]
                return [call.result() for call in calls]
            except Exception:
                # A worker holding an actor was lost, and actors are not
                # recomputed. Tasks recompute what it held and give the same
                # sums (an error of the step itself comes back from them too).
                self._stop_actors()
        client = self.groups.client
        # Sent with each task: on a few workers, one message per worker is
        # faster than a scatter followed by the tasks.
        futures = [
            client.submit(_step, (self.key, g), self.recipe, params, epoch, seeds[g], step,
                          self.n_steps, [future], workers=[address],
                          allow_other_workers=True, pure=False)
            for g, (future, address) in enumerate(zip(self.groups.futures,
                                                      self.groups.addresses))
        ]
        return gather(client, futures)

    def _start_actors(self):
        """One :class:`StepActor` per worker's group (none if one cannot be made)."""
        client = self.groups.client
        self._actor_futures = [
            # Made on another worker if this one is gone, rather than waiting for it.
            client.submit(StepActor, self.recipe, self.n_steps, [future], workers=[address],
                          allow_other_workers=True, actor=True, pure=False)
            for future, address in zip(self.groups.futures, self.groups.addresses)
        ]
        try:
            self.actors = [future.result() for future in self._actor_futures]
        except Exception:  # e.g. a worker lost meanwhile: tasks make the steps
            self._stop_actors()

    def _stop_actors(self):
        """Let the workers drop this fit's actors; the steps go on as tasks."""
        for future in self._actor_futures:
            future.release()
        self._actor_futures, self.actors = [], None

    def close(self):
        """Drop this fit's actors and cached state on the workers."""
        self._stop_actors()
        self.groups.client.run(_forget, self.key)


def _validation_sums(recipe, params, scorer, groups):
    """Per member: ``[weighted loss sum, weight, score sums...]`` over its held-out rows."""
    (group,) = groups
    if group.n_held_out == 0:
        return None
    network = recipe.build(params)
    data = group.data
    rows = group.held_out_rows
    with np.errstate(over="ignore", invalid="ignore"):
        logits = member_rows_logits(network, data.X, rows,
                                    max_predict_rows(network.predict_row_bytes, rows.shape[1]))
        sums = []
        for member, member_logits in enumerate(logits):
            Y = data.Y[rows[member]]
            weights = None if data.sample_weight is None else data.sample_weight[rows[member]]
            weight = float(len(Y)) if weights is None else float(weights.sum())
            loss = network.loss.value(member_logits, Y, weights) * weight
            sums.append(np.concatenate([[loss, weight], scorer.sums(member_logits, Y, weights)]))
    return np.array(sums)


class MemberEvaluation:
    """``evaluate(network, team) -> (scores, losses)``: every member on the workers' held-out rows.

    ``team`` (the local threads) is not used: the workers predict.

    Parameters
    ----------
    groups : Kept
        :class:`MemberGroup` futures whose held-out rows are scored.
    recipe : Future
        The :class:`NetworkRecipe`.
    scorer : BlockScorer
        Score sums of decoded predictions, and the score of summed sums.
    use_loss : bool
        Score with minus the validation loss (``scoring="loss"``).
    """

    def __init__(self, groups, recipe, scorer, use_loss):
        self.groups, self.recipe, self.scorer, self.use_loss = groups, recipe, scorer, use_loss

    def __call__(self, network, team=None):
        params = network.params.copy()  # sent with each task (see MemberRounds)
        parts = [p for p in self.groups.map_groups(_validation_sums, self.recipe, params,
                                                   self.scorer) if p is not None]
        sums = np.sum(parts, axis=0)
        losses = np.where(sums[:, 1] > 0, sums[:, 0] / np.maximum(sums[:, 1], 1e-300), 0.0)
        if self.use_loss:
            return -losses, losses
        return np.array([self.scorer.score(member[2:]) for member in sums]), losses
