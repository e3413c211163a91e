"""The training loop of an ensemble whose members train side by side.

A tabular estimator's ``n_networks`` members are one engine network with a
leading member axis (``_engine/members.py``). This loop runs their epochs
together: every member shuffles its own training rows each epoch, each
step takes one batch per member, and each member keeps the epoch with its
best score on its own validation rows. Nothing a member does changes
another: the loop only saves the repeated work of running them one after
the other.

The work of every step is spread over the threads BLAS may use
(``_engine/parallel.py``): each thread takes some of the members when the
thread count divides their number, and the fit is then the one-thread fit
bit for bit; otherwise each thread takes a part of every member's batch,
the gradient sums run in another order, and the result is the same for a
given thread count.

Like ``_training.py`` it receives arrays in the compute dtype, never
validates user input and never calls the estimator: validation scores come
from an ``evaluate`` callable and verbose output and sklearn's callbacks
are :class:`~skdeep._training.Observer` objects.
"""

import contextlib
import time
from dataclasses import dataclass, field

import numpy as np

from ._engine import scipy_blas_on_one_thread
from ._engine.members import DropoutNoise
from ._engine.parallel import (
    ParallelStep,
    ThreadTeam,
    available_threads,
    one_blas_thread,
    row_parts,
)
from ._training import Observer, predicts_finite

__all__ = [
    "MemberData",
    "MemberConfig",
    "MemberProgress",
    "MemberLog",
    "LocalEpochs",
    "fit_members",
    "member_epoch",
    "member_rows_logits",
    "MIN_PARALLEL_WORK",
]

#: A step is split over threads when its rows times the network's
#: parameters reach this (about a millisecond of work on one core); smaller
#: steps cost more to hand out than they gain.
MIN_PARALLEL_WORK = 4_000_000


@dataclass
class MemberData:
    """Every member's training data: shared arrays, each member's rows.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        Encoded inputs in the compute dtype.
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets.
    sample_weight : ndarray of shape (n_samples,) or None
        Sample weights.
    train_rows : ndarray of shape (n_members, n_train)
        Each member's training rows (indices into ``X``).
    """

    X: np.ndarray
    Y: np.ndarray
    sample_weight: np.ndarray
    train_rows: np.ndarray


@dataclass
class MemberConfig:
    """Settings of a run (see the tabular estimators' parameters)."""

    batch_size: int
    max_iter: int
    early_stopping: bool = True
    n_iter_no_change: int = 64
    tol: float = 0.0
    #: ``(epoch, falling)`` pairs, from the schedule's ``cycle_ends``: where
    #: to stop every member when all of them are overfitting (empty: never).
    cycle_ends: tuple = ()


@dataclass
class MemberProgress:
    """One member's training run: its curves and how it ended.

    Attributes
    ----------
    n_iter : int
        Epochs the member trained.
    loss_curve : list of float
        Its training loss of every epoch.
    validation_scores : list of float
        Its validation score of every epoch (with validation data).
    best_validation_score : float
        Its best validation score (-inf before any).
    found_best : bool
        Whether an epoch set a best validation score.
    history : list of dict
        One record per epoch, as the single-network loop keeps.
    no_improvement_count : int
        Consecutive epochs without a better validation score.
    stopped : str or None
        Why the member stopped before ``max_iter`` ("converged",
        "diverged"), or None.
    message : str
        What ended it, for "diverged".
    """

    n_iter: int = 0
    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_validation_score: float = -np.inf
    found_best: bool = False
    history: list = field(default_factory=list)
    no_improvement_count: int = 0
    stopped: str = None
    message: str = ""


class MemberLog(Observer):
    """Prints one line per epoch: every network's loss and score, elapsed time, ETA.

    Parameters
    ----------
    max_iter : int
        Epochs of the run (for the ETA).
    write : callable, default=print
        Receives each line.
    """

    def __init__(self, max_iter, write=print):
        self.max_iter = int(max_iter)
        self.write = write

    def on_epoch_end(self, network, record):
        parts = []
        for member, loss in enumerate(record["loss"]):
            part = f"network {member + 1}: loss {loss:.5f}"
            if "validation_score" in record:
                part += f", validation {record['validation_score'][member]:.5f}"
            parts.append(part)
        elapsed = record["elapsed"]
        eta = elapsed / record["epoch"] * (self.max_iter - record["epoch"])
        self.write(f"Epoch {record['epoch']}/{self.max_iter} | " + " | ".join(parts)
                   + f" | {elapsed:.1f} s elapsed, ETA {eta:.1f} s")
        return False

    def on_message(self, message):
        self.write(message)


def member_rows_logits(network, X, rows, max_rows, team=None):
    """Each member's logits on its own rows of ``X``, gathered chunk by chunk.

    Parameters
    ----------
    network : TabularNetwork
        Network of ``n_members`` members.
    X : ndarray of shape (n_samples, n_features)
        Shared encoded inputs.
    rows : ndarray of shape (n_members, n_rows)
        Member ``i``'s rows of ``X``.
    max_rows : int or None
        Rows per member computed at once (None: all).
    team : ThreadTeam or None, default=None
        Threads that share the rows (a row's logits do not depend on the
        others').

    Returns
    -------
    logits : ndarray of shape (n_members, n_rows, n_outputs)
    """
    n_rows = rows.shape[1]
    out = np.empty((rows.shape[0], n_rows, network.n_outputs),
                   dtype=np.result_type(X.dtype, network.dtype))
    n_threads = 1 if team is None or n_rows < 64 * team.n_threads else team.n_threads
    parts = row_parts(n_rows, n_threads)
    step = n_rows if not max_rows else max(1, int(max_rows) // n_threads)

    def predict_part(t):
        first, last = parts[t]
        for start in range(first, last, max(step, 1)):
            stop = min(start + step, last)
            out[:, start:stop] = network.predict_logits(np.take(X, rows[:, start:stop], axis=0))

    if n_threads == 1:
        predict_part(0)
    else:
        team.run(predict_part)
    return out


class _Batches:
    """The training rows of one step, gathered per thread into buffers of its own.

    A thread's part is some of the members (``member_parts``, all their
    rows) or some of the rows (of every member), as the step splits them.
    """

    def __init__(self, data, n_members, n_threads, batch_size, member_parts=None):
        self.data = data
        self.n_members, self.n_threads = n_members, n_threads
        self.member_parts = member_parts
        X, Y = data.X, data.Y
        size = n_members * -(-batch_size // n_threads) if member_parts is None else max(
            (stop - first) * batch_size for first, stop in member_parts)
        self._X = [np.empty(size * X.shape[1], X.dtype) for _ in range(n_threads)]
        self._Y = [np.empty(size * Y.shape[1], Y.dtype) for _ in range(n_threads)]
        self.rows = None
        self.parts = None
        self.shares = None

    def set_batch(self, rows):
        """The step's rows, ``(n_members, n)``: cut into one part per thread."""
        self.rows = rows
        n = rows.shape[1]
        self.parts = row_parts(n, self.n_threads)
        if self.n_threads == 1 or self.member_parts is not None:
            self.shares = [None] * self.n_threads
            return
        weights = self.data.sample_weight
        if weights is None:
            self.shares = [np.full(rows.shape[0], (stop - start) / n) for start, stop in self.parts]
            return
        batch_weights = weights[rows]
        total = batch_weights.sum(axis=1)
        safe_total = np.where(total > 0, total, 1.0)
        self.shares = [batch_weights[:, start:stop].sum(axis=1) / safe_total
                       for start, stop in self.parts]

    def _members_and_rows(self, t):
        """Thread ``t``'s members (first, stop) and rows (start, stop) of the batch."""
        if self.member_parts is not None:
            return self.member_parts[t], (0, self.rows.shape[1])
        return (0, self.n_members), self.parts[t]

    def part_loss(self, t, replica, workspace):
        """Thread ``t``'s part of the step: its losses and gradient (see ``ParallelStep``)."""
        X, Y, weights, share = self.part(t)
        if workspace.random_state is not None:
            (first, _), (start, _) = self._members_and_rows(t)
            workspace.random_state.set_part(first, self.n_members, start, self.rows.shape[1])
        return replica.member_losses_and_gradient(X, Y, weights, workspace, share=share)

    def part(self, t):
        """Thread ``t``'s inputs, targets, weights and share of the step."""
        (first, last), (start, stop) = self._members_and_rows(t)
        rows = self.rows[first:last, start:stop]
        k, m = rows.shape
        X, Y, weights = self.data.X, self.data.Y, self.data.sample_weight
        X_part = np.take(X, rows, axis=0, out=self._X[t][: k * m * X.shape[1]].reshape(
            k, m, X.shape[1]))
        Y_part = np.take(Y, rows, axis=0, out=self._Y[t][: k * m * Y.shape[1]].reshape(
            k, m, Y.shape[1]))
        weights_part = None if weights is None else weights[rows]
        return X_part, Y_part, weights_part, self.shares[t]


def _thread_count(network, batch_size):
    """Threads for each step: BLAS's limit, when a step is worth splitting."""
    n_threads = available_threads()
    work = batch_size * network.params.size
    if n_threads < 2 or work < MIN_PARALLEL_WORK or batch_size < 2 * n_threads:
        return 1
    return n_threads


def _dropout_noise(network, random_states, n_threads):
    """Each thread's source of dropout masks: one stream, seeded by every member.

    Every thread reads the same stream (:class:`~skdeep._engine.members.DropoutNoise`),
    so the masks do not depend on the thread count. Seeded only when the
    network has dropout, so that without it the random streams (and thus
    the shuffles) are those of the members alone.
    """
    if not any(getattr(layer, "dropout", 0) > 0 for layer in network.layers):
        return [None] * n_threads
    seeds = [random_state.randint(2**31 - 1) for random_state in random_states]
    return [DropoutNoise(np.random.SeedSequence(seeds)) for _ in range(n_threads)]


class LocalEpochs:
    """The steps of every member's epochs, in this process.

    Every member shuffles its own training rows each epoch; each step takes
    one batch per member, its rows spread over the threads BLAS may use.
    Use it as a context manager (the threads end with it); ``run_epoch``
    runs one epoch. A distributed fit gives :func:`fit_members` an object
    with the same ``run_epoch`` instead (``epochs``).

    Parameters
    ----------
    network : TabularNetwork
        Network of ``n_members`` members, trained in place.
    optimizer : update rule
        Over the whole parameter vector.
    schedule : learning-rate schedule
        Per-batch rates (``batch_rates``).
    data : MemberData
        Shared arrays and each member's training rows.
    batch_size : int
        Rows per member and step.
    random_states : sequence of numpy.random.RandomState
        Each member's source of shuffles (and of the dropout seed).
    """

    def __init__(self, network, optimizer, schedule, data, batch_size, random_states):
        self.network, self.optimizer, self.schedule = network, optimizer, schedule
        self.data, self.batch_size, self.random_states = data, batch_size, random_states
        self.k = network.n_members
        self.n_train = data.train_rows.shape[1]
        self.orders = np.tile(np.arange(self.n_train), (self.k, 1))
        self._stack = None
        self.step = self.batches = None

    def __enter__(self):
        n_threads = _thread_count(self.network, self.batch_size)
        generators = _dropout_noise(self.network, self.random_states, n_threads)
        self._stack = contextlib.ExitStack()
        team = self._stack.enter_context(ThreadTeam(n_threads))
        if n_threads > 1:
            self._stack.enter_context(one_blas_thread())
        self.step = ParallelStep(self.network, self.optimizer, team, self.batch_size,
                                 generators)
        self.batches = _Batches(self.data, self.k, n_threads, self.batch_size,
                                self.step.member_parts)
        return self

    @property
    def team(self):
        """The threads of the steps, which may also share the validation."""
        return self.step.team

    def __exit__(self, *exc_info):
        self._stack.close()

    @property
    def n_batches(self):
        return -(-self.n_train // self.batch_size)

    def _shuffled_rows(self):
        """Each member's training rows in this epoch's order (its own shuffle)."""
        for member, random_state in enumerate(self.random_states):
            self.orders[member] = self.orders[member][random_state.permutation(self.n_train)]
        return np.take_along_axis(self.data.train_rows, self.orders, axis=1)

    def run_epoch(self, epoch):
        """One epoch of steps of every member.

        Returns
        -------
        losses : ndarray of shape (n_members,)
            Each member's mean training loss over the epoch.
        learning_rate : float
            The epoch's learning rate (its largest, for a per-batch schedule).
        """
        rows = self._shuffled_rows()
        rates = self.schedule.batch_rates(epoch, self.n_batches)
        losses = np.zeros(self.k)
        size = self.batch_size
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for b, start in enumerate(range(0, self.n_train, size)):
                stop = min(start + size, self.n_train)
                self.optimizer.learning_rate = (self.optimizer.learning_rate if rates is None
                                                else rates[b])
                self.batches.set_batch(rows[:, start:stop])
                losses += self.step.step(self.batches.part_loss) * (stop - start)
        losses /= self.n_train
        learning_rate = self.optimizer.learning_rate if rates is None else max(rates)
        return losses, learning_rate


def member_epoch(network, optimizer, schedule, data, batch_size, epoch, random_states):
    """One epoch of every member over its training rows of ``data``, and nothing else.

    The steps of one epoch of :func:`fit_members` (no validation, no
    stopping): what a worker of a distributed fit runs on its own rows.

    Returns
    -------
    losses : ndarray of shape (n_members,)
        Each member's mean training loss over the epoch.
    learning_rate : float
        The epoch's (largest) learning rate.
    """
    with LocalEpochs(network, optimizer, schedule, data, batch_size, random_states) as epochs:
        return epochs.run_epoch(epoch)


class _MemberLoop:
    """State of one run; :meth:`run` is the loop."""

    def __init__(self, network, epochs, config, evaluate, observers):
        self.network, self.epochs = network, epochs
        self.config = config
        self.evaluate, self.observers = evaluate, observers
        self.k = network.n_members
        self.progress = [MemberProgress() for _ in range(self.k)]
        self.member_indices = [network.member_indices(i) for i in range(self.k)]
        self.best_params = network.params.copy()
        self.last_params = network.params.copy()
        self.started = None

    def run(self):
        self.started = time.perf_counter()
        for epoch in range(self.config.max_iter):
            if self._epoch(epoch):
                break
        self._restore()
        return self.progress

    def _active(self):
        return [i for i, progress in enumerate(self.progress) if progress.stopped is None]

    def _epoch(self, epoch):
        """One epoch of every member; True when every member has stopped."""
        for observer in self.observers:
            observer.on_epoch_begin(self.network)
        started = time.perf_counter()
        training = self._active()
        frozen = [(index, self.network.params[index])  # fancy indexing: copies
                  for i, index in enumerate(self.member_indices) if i not in training]
        losses, learning_rate = self.epochs.run_epoch(epoch)
        # The members are independent networks: the stopped ones trained along
        # (the steps are over every member) and get their parameters back.
        for index, values in frozen:
            self.network.params[index] = values
        seconds = time.perf_counter() - started
        self._check_divergence(losses)
        scores, validation_losses = self._validate(self.epochs.team)
        record = self._record(epoch, training, losses, scores, validation_losses, learning_rate,
                              seconds)
        # Every observer sees the epoch, whatever the others answer.
        answers = [bool(observer.on_epoch_end(self.network, record))
                   for observer in self.observers]
        stop = any(answers)
        overfitting = not stop and self._overfitting(epoch + 1)
        if stop or overfitting:
            for progress in self.progress:
                progress.stopped = progress.stopped or "converged"
        if overfitting:
            self._report(f"Epoch {epoch + 1} ends a learning-rate cycle, and every network "
                         "scores below its best before the cycle's falling half: they are "
                         "overfitting. Stopping.")
        return not self._active()

    def _overfitting(self, epoch):
        """Whether every member still training has overfit, judged at a cycle's end.

        At the end of a cycle the learning rate is near 0, where a network
        scores its best. A member whose scores over the cycle's falling half
        are all below its best before it is getting worse with training;
        the next cycle, twice as long, would take it further that way. Only
        when every member is would stopping save any work: they train as one.
        """
        falling = dict(self.config.cycle_ends).get(epoch)
        active = self._active()
        if falling is None or not self.config.early_stopping or not active:
            return False
        for i in active:
            scores = np.asarray(self.progress[i].validation_scores, dtype=float)
            recent, before = scores[-falling:], scores[:-falling]
            if (len(scores) != epoch or not np.isfinite(scores).all()
                    or recent.max() >= before.max()):
                return False
        return True

    def _check_divergence(self, losses):
        """Members whose loss or weights overflowed go back to their last epoch and stop."""
        params = self.network.params
        for i in self._active():
            index = self.member_indices[i]
            if np.isfinite(losses[i]) and np.isfinite(params[index]).all():
                self.last_params[index] = params[index]
                continue
            params[index] = self.last_params[index]
            progress = self.progress[i]
            progress.stopped, progress.message = "diverged", f"loss became {losses[i]}"

    def _validate(self, team):
        if self.evaluate is None:
            return None, None
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self.evaluate(self.network, team)

    def _record(self, epoch, training, losses, scores, validation_losses, learning_rate,
                seconds):
        """Per-member history, best epochs and stopping; the epoch's record for observers.

        The epoch counts for the members in ``training``; one that diverged
        in it records a NaN validation score, as the single-network loop does.
        """
        record = {"epoch": epoch + 1, "loss": [float(loss) for loss in losses],
                  "learning_rate": learning_rate, "time": seconds,
                  "elapsed": time.perf_counter() - self.started}
        if scores is not None:
            record["validation_score"] = [float(score) for score in scores]
            record["validation_loss"] = [float(loss) for loss in validation_losses]
        for i in training:
            progress = self.progress[i]
            progress.n_iter = epoch + 1
            progress.loss_curve.append(float(losses[i]))
            entry = {"epoch": epoch + 1, "loss": float(losses[i]),
                     "learning_rate": learning_rate, "time": seconds}
            diverged = progress.stopped == "diverged"
            if scores is not None:
                score = np.nan if diverged else float(scores[i])
                entry["validation_score"] = score
                entry["validation_loss"] = np.nan if diverged else float(validation_losses[i])
                progress.validation_scores.append(score)
                if not diverged:
                    self._track_best(i, score)
            progress.history.append(entry)
        return record

    def _track_best(self, i, score):
        """sklearn's rule: remember member ``i``'s best weights; stop it after a plateau."""
        progress, config = self.progress[i], self.config
        if not config.early_stopping:
            return
        if score < progress.best_validation_score + config.tol:
            progress.no_improvement_count += 1
        else:
            progress.no_improvement_count = 0
        if score > progress.best_validation_score:
            progress.best_validation_score = score
            progress.found_best = True
            index = self.member_indices[i]
            self.best_params[index] = self.network.params[index]
        if progress.no_improvement_count > config.n_iter_no_change:
            progress.stopped = "converged"
            self._report(f"Network {i + 1}: validation score did not improve more than "
                         f"tol={config.tol:f} for {config.n_iter_no_change} consecutive "
                         "epochs. Stopping it.")

    def _report(self, message):
        for observer in self.observers:
            observer.on_message(message)

    def _restore(self):
        """Each member's kept weights: its best epoch, else its last good one."""
        for i, progress in enumerate(self.progress):
            if self.config.early_stopping and progress.found_best:
                index = self.member_indices[i]
                self.network.params[index] = self.best_params[index]


def fit_members(network, optimizer, schedule, data, config, random_states, *,
                evaluate=None, observers=(), epochs=None):
    """Train every member of ``network`` side by side.

    Parameters
    ----------
    network : TabularNetwork
        The members' network (``n_members`` set); its ``params`` hold the
        result on return.
    optimizer : update rule
        Over the whole parameter vector (elementwise, so each member's
        update is its own).
    schedule : learning-rate schedule
        Per-batch rates (``batch_rates``), the same for every member.
    data : MemberData
        Shared arrays and each member's training rows.
    config : MemberConfig
        Batch size, epochs and stopping.
    random_states : sequence of numpy.random.RandomState
        Each member's source of shuffles (and of the dropout seed).
    evaluate : callable, default=None
        ``evaluate(network) -> (scores, losses)``, each of shape
        ``(n_members,)``: every member's validation score (higher is better)
        and loss on its own validation rows.
    observers : sequence of Observer, default=()
        Notified around every epoch; the record of ``on_epoch_end`` holds
        per-member lists (``loss``, ``validation_score``) and the elapsed time.
    epochs : object, default=None
        Runs the epochs' steps elsewhere (``skdeep.dask``): its
        ``run_epoch(epoch) -> (losses, learning_rate)`` trains every member
        of ``network`` for one epoch (the loop puts the stopped members'
        parameters back), and its ``team`` is the ``ThreadTeam`` that may
        share the validation, or None; ``data`` may then be None. None: the
        steps run here (:class:`LocalEpochs`).

    Returns
    -------
    progress : list of MemberProgress
        How each member's run went.
    """
    observers = list(observers)
    for observer in observers:
        observer.on_train_begin(network)
    if epochs is None:
        runner = LocalEpochs(network, optimizer, schedule, data, config.batch_size, random_states)
    else:
        runner = contextlib.nullcontext(epochs)
    # SciPy's BLAS (the update rule's axpy) on one thread: see axpy.
    with scipy_blas_on_one_thread(), runner as runs:
        progress = _MemberLoop(network, runs, config, evaluate, observers).run()
    for observer in observers:
        observer.on_train_end(network, progress)
    return progress


def members_predict_finite(network, X):
    """Whether every member predicts finite numbers on the first (up to 256) rows of ``X``."""
    rows = np.tile(np.arange(min(len(X), 256)), (network.n_members, 1))
    return predicts_finite(network, np.take(X, rows, axis=0))
