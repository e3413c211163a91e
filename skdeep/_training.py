"""Training loops on clean arrays: epochs, mini-batches, stopping, history.

This module sits between the engine (which computes losses, gradients and
updates) and the estimators (which validate data and own sklearn's
conventions). It receives arrays already in the compute dtype, a network and
its update rule, and returns one :class:`TrainingResult`, whichever the
solver; it never validates user input and never calls the estimator.
Verbose output and sklearn's callbacks are :class:`Observer` objects that the
loop notifies; an observer can ask training to stop (a flag, never an
exception).
"""

import contextlib
import time
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.optimize
import scipy.sparse as sp

from ._engine import (
    SklearnOrderObjective,
    clip_by_global_norm,
    scipy_blas_on_one_thread,
)
from ._engine.parallel import (
    ParallelStep,
    ThreadTeam,
    available_threads,
    one_blas_thread,
    row_parts,
)

__all__ = [
    "Observer",
    "VerboseLog",
    "TrainingState",
    "StochasticConfig",
    "LbfgsConfig",
    "TrainingResult",
    "EpochRunner",
    "InMemoryEpochs",
    "LbfgsObjective",
    "InMemoryObjective",
    "SklearnOrderInMemoryObjective",
    "LBFGS_OBJECTIVES",
    "prepare_lbfgs_loss",
    "predicts_finite",
    "fit_stochastic",
    "fit_lbfgs",
]


@dataclass
class TrainingState:
    """Counters and curves that persist across ``fit`` / ``partial_fit`` calls.

    Everything is a builtin number, a list or a dict of arrays, so an
    estimator can keep it as fitted attributes (sklearn's ``n_iter_``,
    ``t_``, ``loss_curve_`` ...).

    Attributes
    ----------
    n_iter : int
        Epochs (L-BFGS: iterations) completed by the current call.
    t : int
        Training samples seen, over all calls.
    loss : float or None
        Training loss of the last epoch.
    loss_curve : list of float
        Training loss of every epoch.
    best_loss : float
        Lowest training loss (monitored without early stopping).
    validation_scores : list of float or None
        Validation score of every epoch, with early stopping.
    best_validation_score : float or None
        Best validation score, with early stopping.
    no_improvement_count : int
        Consecutive epochs without an improvement of at least ``tol``.
    history : list of dict
        One record per epoch: ``epoch``, ``loss``, ``learning_rate``,
        ``time`` and, with validation data, ``validation_score`` and
        ``validation_loss``.
    optimizer_state : dict or None
        The update rule's ``state_dict()`` after the last epoch.
    """

    n_iter: int = 0
    t: int = 0
    loss: float = None
    loss_curve: list = field(default_factory=list)
    best_loss: float = np.inf
    validation_scores: list = None
    best_validation_score: float = None
    no_improvement_count: int = 0
    history: list = field(default_factory=list)
    optimizer_state: dict = None

    def copy(self):
        """A copy whose lists can grow without changing this one."""
        return replace(
            self,
            loss_curve=list(self.loss_curve),
            validation_scores=(
                None if self.validation_scores is None else list(self.validation_scores)
            ),
            history=list(self.history),
        )


@dataclass
class StochasticConfig:
    """Settings of a mini-batch training run (see sklearn's MLP parameters)."""

    batch_size: int
    max_iter: int
    alpha: float
    shuffle: bool = True
    tol: float = 1e-4
    n_iter_no_change: float = 10
    incremental: bool = False
    max_grad_norm: float = None
    early_stopping: bool = False


#: How L-BFGS computes its loss: "sklearn" as scikit-learn's MLP does,
#: operation for operation; "exact" as the engine does for every solver.
LBFGS_OBJECTIVES = ("sklearn", "exact")


@dataclass
class LbfgsConfig:
    """Settings of a full-batch L-BFGS run (see sklearn's MLP parameters).

    ``objective`` is one of ``LBFGS_OBJECTIVES``; ``iprint`` is SciPy's
    verbosity, passed only to SciPy < 1.15 (later versions ignore it and
    warn about it), as scikit-learn passes it.
    """

    alpha: float
    max_iter: int
    max_fun: int
    tol: float
    objective: str = "sklearn"
    iprint: int = -1


@dataclass
class TrainingResult:
    """How a training run ended, and the progress it made.

    ``status`` is one of ``"converged"`` (stopping criterion met, or an
    observer asked to stop), ``"max_iter"`` (ran out of epochs or
    iterations), ``"incremental"`` (one ``partial_fit`` epoch done),
    ``"interrupted"`` (KeyboardInterrupt; the network holds the weights of
    the last completed epoch) or ``"diverged"`` (the loss or the predictions
    became non-finite).
    """

    status: str
    message: str = ""
    state: TrainingState = None
    #: With early stopping: whether an epoch of this run set a new best
    #: validation score, so that the weights restored at the end are its own.
    found_best: bool = False


class Observer:
    """Base of the objects the loops notify; every hook does nothing.

    Hooks receive the network being trained. ``on_epoch_end`` returning True
    asks training to stop after that epoch (or L-BFGS iteration).
    """

    def on_train_begin(self, network):
        """Before the first epoch."""

    def on_epoch_begin(self, network):
        """Before each epoch (L-BFGS: iteration)."""

    def on_epoch_end(self, network, record):
        """After each epoch, with its history record; True stops training."""
        return False

    def on_message(self, message):
        """A decision of the loop worth reporting (plateau, new learning rate)."""

    def on_train_end(self, network, result):
        """After training, with the result (weights already final)."""


class VerboseLog(Observer):
    """Prints one line per epoch and the loop's decisions.

    Parameters
    ----------
    write : callable, default=print
        Receives each line.
    detailed : bool, default=False
        False prints scikit-learn's lines exactly (``Iteration 3, loss =
        0.41234567``, then ``Validation score: 0.912345`` when there is
        validation data), so that scripts parsing them keep working; True
        prints one richer line per epoch, with the validation score and the
        epoch's time.
    """

    def __init__(self, write=print, detailed=False):
        self.write = write
        self.detailed = detailed

    def on_epoch_end(self, network, record):
        line = f"Iteration {record['epoch']}, loss = {record['loss']:.8f}"
        if not self.detailed:
            self.write(line)
            if "validation_score" in record:
                self.write(f"Validation score: {record['validation_score']:f}")
            return False
        if "validation_score" in record:
            line += f", validation score = {record['validation_score']:.6f}"
        if "time" in record:
            line += f", time = {record['time']:.3f}s"
        self.write(line)
        return False

    def on_message(self, message):
        self.write(message)


def _notify_stop(observers, network, record):
    """Every observer sees the epoch; True if any asks to stop."""
    stop = False
    for observer in observers:
        stop = bool(observer.on_epoch_end(network, record)) or stop
    return stop


# --------------------------------------------------------------------------
# mini-batch training
# --------------------------------------------------------------------------


def _batches(n_samples, batch_size):
    """Start and stop of every mini-batch; the last one may be smaller."""
    for start in range(0, n_samples, batch_size):
        yield start, min(start + batch_size, n_samples)


class _BatchGatherer:
    """Copies the rows of a shuffled mini-batch into reusable buffers."""

    def __init__(self, X, Y, weights, batch_size):
        self.X, self.Y, self.weights = X, Y, weights
        self._dense = not sp.issparse(X)
        if self._dense:
            self._X_buffer = np.empty((batch_size, X.shape[1]), dtype=X.dtype)
        self._Y_buffer = np.empty((batch_size, Y.shape[1]), dtype=Y.dtype)
        self._parts = {}

    def take(self, indices):
        """Rows ``indices`` of X, Y and the weights."""
        n = len(indices)
        if self._dense:
            X_batch = np.take(self.X, indices, axis=0, out=self._X_buffer[:n])
        else:
            X_batch = self.X[indices]
        Y_batch = np.take(self.Y, indices, axis=0, out=self._Y_buffer[:n])
        weights = None if self.weights is None else self.weights[indices]
        return X_batch, Y_batch, weights

    def take_into(self, part, indices):
        """Rows ``indices`` of X, Y and the weights, into buffers of thread ``part``."""
        n = len(indices)
        buffers = self._parts.get(part)
        if buffers is None or buffers[1].shape[0] < n:
            buffers = self._parts[part] = (
                np.empty((n, self.X.shape[1]), self.X.dtype) if self._dense else None,
                np.empty((n, self.Y.shape[1]), self.Y.dtype))
        X_part = (np.take(self.X, indices, axis=0, out=buffers[0][:n]) if self._dense
                  else self.X[indices])
        Y_part = np.take(self.Y, indices, axis=0, out=buffers[1][:n])
        return X_part, Y_part, None if self.weights is None else self.weights[indices]

    def slice(self, start, stop):
        """Rows ``start:stop`` as views (no copy for dense data)."""
        weights = None if self.weights is None else self.weights[start:stop]
        return self.X[start:stop], self.Y[start:stop], weights


def _run_epoch(network, optimizer, gatherer, workspace, order, config, batch_rates=None):
    """One pass over the training data; returns the mean batch loss.

    ``batch_rates``, when given, sets the learning rate of each mini-batch.
    """
    n_samples = gatherer.X.shape[0]
    accumulated = 0.0
    for index, (start, stop) in enumerate(_batches(n_samples, workspace.batch_size)):
        if batch_rates is not None:
            optimizer.learning_rate = batch_rates[index]
        if order is None:
            X_batch, Y_batch, weights = gatherer.slice(start, stop)
        else:
            X_batch, Y_batch, weights = gatherer.take(order[start:stop])
        batch_loss = network.loss_and_gradient(X_batch, Y_batch, weights, config.alpha, workspace)
        if config.max_grad_norm is not None:
            clip_by_global_norm(network.grad, config.max_grad_norm)
        optimizer.step(network.params, network.grad)
        accumulated += batch_loss * (stop - start)
    return accumulated / n_samples


def _update_stopping(state, config, score, network, best_params):
    """Track improvement of the monitored quantity (sklearn's rule).

    With early stopping, the monitored quantity is the validation score
    (higher is better) and the best weights are remembered; otherwise it is
    the training loss. Returns whether the best weights were replaced.
    """
    if config.early_stopping:
        if score < state.best_validation_score + config.tol:
            state.no_improvement_count += 1
        else:
            state.no_improvement_count = 0
        if score > state.best_validation_score:
            state.best_validation_score = score
            np.copyto(best_params, network.params)
            return True
        return False
    loss = state.loss_curve[-1]
    if loss > state.best_loss - config.tol:
        state.no_improvement_count += 1
    else:
        state.no_improvement_count = 0
    state.best_loss = min(state.best_loss, loss)
    return False


def _epoch_record(state, epoch_loss, learning_rate, seconds, evaluate, network):
    """One row of the training history; appends the validation score too."""
    record = {
        "epoch": len(state.history) + 1,
        "loss": epoch_loss,
        "learning_rate": learning_rate,
        "time": seconds,
    }
    if evaluate is not None:
        score, validation_loss = evaluate(network)
        record["validation_score"] = score
        record["validation_loss"] = validation_loss
        if state.validation_scores is not None:
            state.validation_scores.append(score)
    state.history.append(record)
    return record


def _diverged_evaluation(network):
    """The validation score and loss of a network whose weights overflowed."""
    return np.nan, np.nan


def _plateau_message(config):
    monitored = "Validation score" if config.early_stopping else "Training loss"
    return (
        f"{monitored} did not improve more than tol={config.tol:f} for "
        f"{config.n_iter_no_change} consecutive epochs."
    )


def _dropout_generator(network, random_state):
    """Generator for dropout masks, seeded from ``random_state``.

    Drawn only when the network has dropout, so that without it the random
    stream (and thus shuffling) matches sklearn's exactly.
    """
    if not any(getattr(layer, "rate", 0) > 0 for layer in network.layers):
        return None
    return np.random.default_rng(random_state.randint(2**31 - 1))


class EpochRunner:
    """Where the epochs of :func:`fit_stochastic` run: the data and the pass over it.

    The loop owns every decision between epochs (stopping, schedules,
    divergence, history); a runner owns the training rows and makes one
    pass over them. :class:`InMemoryEpochs` trains on arrays in this
    process; ``skdeep.dask`` runs each epoch on a cluster's workers.

    Attributes
    ----------
    n_samples : int
        Training rows one epoch visits.
    """

    n_samples = 0

    def run_epoch(self, network, optimizer, schedule, epoch):
        """One pass over the training rows, updating ``network.params`` in place.

        Parameters
        ----------
        network : Sequential
            The network being trained.
        optimizer : update rule
            Steps the parameters; its learning rate is the epoch's.
        schedule : learning-rate schedule
            For per-batch rates (``schedule.batch_rates``).
        epoch : int
            Epochs completed before this one (over all calls).

        Returns
        -------
        loss : float
            Mean training loss of the epoch's mini-batches.
        learning_rate : float
            The (largest) learning rate of the epoch, for the history.
        """
        raise NotImplementedError

    def predictions_finite(self, network):
        """Whether ``network`` predicts finite numbers on (some) training rows."""
        raise NotImplementedError

    def threads(self, network, optimizer):
        """Context manager around the run: the threads its steps use (none here)."""
        return contextlib.nullcontext()


class InMemoryEpochs(EpochRunner):
    """Epochs over arrays in memory: shuffled mini-batches of ``config.batch_size``.

    Parameters
    ----------
    network : Sequential
        The network being trained (sizes the buffers).
    data : tuple of (X, Y, weights)
        Training arrays in the network's dtype (see :func:`fit_stochastic`).
    config : StochasticConfig
        Batch size, shuffling, penalty and gradient clipping.
    random_state : numpy.random.RandomState
        Source of the shuffles (and of the dropout seed, drawn here).
    """

    def __init__(self, network, data, config, random_state):
        X, Y, weights = data
        self.config, self.random_state = config, random_state
        self.X = X
        self.n_samples = X.shape[0]
        self.workspace = network.new_workspace(
            config.batch_size, _dropout_generator(network, random_state)
        )
        self.gatherer = _BatchGatherer(X, Y, weights, config.batch_size)
        self.order = np.arange(self.n_samples) if config.shuffle else None
        self.parallel = None

    @contextlib.contextmanager
    def threads(self, network, optimizer):
        """Split each step's rows over the BLAS thread limit, when that pays.

        Not with dropout (its masks would depend on the thread count) nor with
        gradient clipping (it needs the whole gradient before the update);
        on one thread the step is the plain, sklearn-identical one.
        """
        n_threads = _step_threads(network, self.config)
        if n_threads == 1:
            yield
            return
        with ThreadTeam(n_threads) as team, one_blas_thread():
            self.parallel = _ParallelRows(
                ParallelStep(network, optimizer, team, self.config.batch_size,
                             [None] * n_threads),
                self.gatherer, self.config)
            try:
                yield
            finally:
                self.parallel = None

    @property
    def n_batches(self):
        """Mini-batches per epoch."""
        return -(-self.n_samples // self.config.batch_size)

    def run_epoch(self, network, optimizer, schedule, epoch):
        batch_rates = schedule.batch_rates(epoch, self.n_batches)
        learning_rate = optimizer.learning_rate if batch_rates is None else max(batch_rates)
        return self.run_pass(network, optimizer, batch_rates), learning_rate

    def run_pass(self, network, optimizer, batch_rates=None):
        """One shuffled pass with the given per-batch rates; the mean batch loss."""
        if self.config.shuffle:
            # Reshuffle the previous order (as sklearn does), so the same
            # random_state visits the same batches as sklearn's MLP.
            self.order = self.order[self.random_state.permutation(self.n_samples)]
        if self.parallel is not None:
            return self.parallel.run_epoch(optimizer, self.order, batch_rates)
        return _run_epoch(
            network, optimizer, self.gatherer, self.workspace, self.order, self.config,
            batch_rates,
        )

    def predictions_finite(self, network):
        return predicts_finite(network, self.X)


#: A step is split over threads when its rows times the network's
#: parameters reach this (about a millisecond of work on one core); smaller
#: steps cost more to hand out than they gain.
MIN_PARALLEL_WORK = 4_000_000


def _step_threads(network, config):
    """Threads for each mini-batch step: 1 unless splitting the rows pays and is exact."""
    n_threads = available_threads()
    has_dropout = any(getattr(layer, "rate", 0) > 0 for layer in network.layers)
    if (n_threads < 2 or has_dropout or config.max_grad_norm is not None
            or config.batch_size * network.params.size < MIN_PARALLEL_WORK
            or config.batch_size < 2 * n_threads):
        return 1
    return n_threads


class _ParallelRows:
    """Mini-batch steps whose rows are split over threads (see ``_engine/parallel.py``)."""

    def __init__(self, step, gatherer, config):
        self.step, self.gatherer = step, gatherer
        self.alpha, self.batch_size = config.alpha, config.batch_size
        self._rows = None
        self._parts = None
        self._shares = None

    def run_epoch(self, optimizer, order, batch_rates):
        n_samples = self.gatherer.X.shape[0]
        accumulated = 0.0
        for index, (start, stop) in enumerate(_batches(n_samples, self.batch_size)):
            if batch_rates is not None:
                optimizer.learning_rate = batch_rates[index]
            accumulated += self._step(order, start, stop) * (stop - start)
        return accumulated / n_samples

    def _step(self, order, start, stop):
        self._rows = np.arange(start, stop) if order is None else order[start:stop]
        n = stop - start
        self._parts = row_parts(n, self.step.team.n_threads)
        weights = self.gatherer.weights
        total = n if weights is None else float(weights[self._rows].sum())
        if weights is None:
            self._shares = [(b - a) / n for a, b in self._parts]
        else:
            part_sums = [float(weights[self._rows[a:b]].sum()) for a, b in self._parts]
            self._shares = [part / total if total > 0 else 0.0 for part in part_sums]
        penalty = self.alpha / total if self.alpha and total > 0 else 0.0
        return self.step.step(self._part_loss, penalty)

    def _part_loss(self, t, replica, workspace):
        start, stop = self._parts[t]
        X, Y, weights = self.gatherer.take_into(t, self._rows[start:stop])
        return replica.loss_and_gradient(X, Y, weights, 0.0, workspace, share=self._shares[t])


class _EpochLoop:
    """State of one mini-batch training run; :meth:`run` is the loop."""

    def __init__(self, network, optimizer, schedule, epochs, config, state, evaluate,
                 observers):
        self.network, self.optimizer, self.schedule = network, optimizer, schedule
        self.config, self.state, self.epochs = config, state, epochs
        self.evaluate, self.observers = evaluate, observers
        self.n_samples = epochs.n_samples
        self.best_params = network.params.copy() if config.early_stopping else None
        self.found_best = False
        self._checkpoint()

    def _checkpoint(self):
        """Remember the weights and optimizer state of the last good epoch."""
        if not hasattr(self, "last_params"):
            self.last_params = np.empty_like(self.network.params)
        np.copyto(self.last_params, self.network.params)
        self.last_optimizer_state = self.optimizer.state_dict()

    def _rollback(self):
        self.network.params[...] = self.last_params
        self.optimizer.load_state_dict(self.last_optimizer_state)

    def run(self):
        """Epochs until a stopping rule, ``max_iter``, or an interrupt."""
        optimizer = self.optimizer
        optimizer.learning_rate = self.schedule.start(
            optimizer.learning_rate, len(self.state.loss_curve)
        )
        result = TrainingResult("max_iter")
        try:
            for _ in range(self.config.max_iter):
                result = self._epoch()
                if result is not None:
                    break
            else:
                result = TrainingResult("max_iter")
        except KeyboardInterrupt:
            self._rollback()
            result = TrainingResult("interrupted", "Training interrupted by user.")
        if self.config.early_stopping:
            self.network.params[...] = self.best_params
        result.state = self.state
        result.found_best = self.found_best
        self.state.optimizer_state = self.optimizer.state_dict()
        return result

    def _epoch(self):
        """One epoch and the decisions after it; a result ends the run."""
        state, config, network = self.state, self.config, self.network
        for observer in self.observers:
            observer.on_epoch_begin(network)
        started = time.perf_counter()
        # Overflow is how divergence shows; it is detected just below.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            epoch_loss, learning_rate = self.epochs.run_epoch(
                network, self.optimizer, self.schedule, len(state.loss_curve)
            )
        seconds = time.perf_counter() - started
        if not (np.isfinite(epoch_loss) and np.isfinite(network.params).all()):
            self._rollback()
            if config.early_stopping:
                # On record, as sklearn records it: a NaN validation score.
                # The run ends here and the best epoch's weights are restored.
                self._count_epoch(epoch_loss)
                _epoch_record(state, epoch_loss, learning_rate, seconds,
                              _diverged_evaluation, network)
            return TrainingResult("diverged", f"loss became {epoch_loss}")
        self._checkpoint()
        self._count_epoch(epoch_loss)
        record = _epoch_record(
            state, epoch_loss, learning_rate, seconds, self.evaluate, network
        )
        stop_requested = _notify_stop(self.observers, network, record)
        return self._after_epoch(record, stop_requested)

    def _count_epoch(self, epoch_loss):
        state = self.state
        state.n_iter += 1
        state.t += self.n_samples
        state.loss = epoch_loss
        state.loss_curve.append(epoch_loss)

    def _after_epoch(self, record, stop_requested):
        """Stopping rules and schedule updates (sklearn's order)."""
        state, config, optimizer = self.state, self.config, self.optimizer
        if _update_stopping(state, config, record.get("validation_score"), self.network,
                            self.best_params):
            self.found_best = True
        optimizer.learning_rate = self.schedule.on_epoch_end(
            optimizer.learning_rate, state.t, len(state.loss_curve)
        )
        if state.no_improvement_count > config.n_iter_no_change:
            message = _plateau_message(config)
            new_rate, stop = self.schedule.on_plateau(optimizer.learning_rate)
            if stop:
                self._report(message + " Stopping.")
                return TrainingResult("converged", message)
            optimizer.learning_rate = new_rate
            state.no_improvement_count = 0
            self._report(message + f" Setting learning rate to {new_rate:f}")
        if stop_requested:
            return TrainingResult("converged", "Stopped by a callback.")
        if config.incremental:
            return TrainingResult("incremental")
        return None

    def _report(self, message):
        for observer in self.observers:
            observer.on_message(message)


def fit_stochastic(network, optimizer, schedule, data, config, state, random_state, *,
                   evaluate=None, observers=()):
    """Mini-batch training: the epoch loop of the stochastic solvers.

    Parameters
    ----------
    network : Sequential
        Network to train; its ``params`` are updated in place.
    optimizer : SGD, Adam, AdamW or RMSprop
        Update rule, with its state from earlier calls when continuing.
    schedule : learning-rate schedule
        Consulted at the start, at the end of every epoch and at plateaus.
    data : tuple of (X, Y, weights) or EpochRunner
        Training inputs ``(n_samples, n_features)`` (dense or CSR), encoded
        targets ``(n_samples, n_outputs)`` and sample weights (or None), in
        the network's dtype; or an :class:`EpochRunner` that runs each
        epoch where the data is (``skdeep.dask``).
    config : StochasticConfig
        Batch size, epochs, tolerance and penalty.
    state : TrainingState
        Progress of earlier calls; updated in place and returned in the
        result.
    random_state : numpy.random.RandomState
        Source of the per-epoch shuffles (and of the dropout seed) of
        in-memory ``data``; an :class:`EpochRunner` has its own.
    evaluate : callable, default=None
        ``evaluate(network) -> (score, loss)`` on validation data, called
        after every epoch and recorded in the history. With
        ``config.early_stopping`` the score (higher is better) drives
        stopping and the best weights are restored at the end.
    observers : sequence of Observer, default=()
        Notified around every epoch.

    Returns
    -------
    result : TrainingResult
    """
    observers = list(observers)
    for observer in observers:
        observer.on_train_begin(network)
    epochs = data if isinstance(data, EpochRunner) else InMemoryEpochs(
        network, data, config, random_state
    )
    loop = _EpochLoop(network, optimizer, schedule, epochs, config, state, evaluate, observers)
    # SciPy's BLAS (the update rules' axpy) on one thread: see axpy.
    with scipy_blas_on_one_thread(), epochs.threads(network, optimizer):
        result = loop.run()
    if result.status != "diverged":
        result = _check_finite_predictions(result, epochs, network)
    for observer in observers:
        observer.on_train_end(network, result)
    return result


def _check_finite_predictions(result, data, network):
    """Report divergence when the weights overflow predictions.

    A finite loss can hide weights so large that predictions on the
    training rows overflow; ``data`` (an :class:`EpochRunner` or
    :class:`LbfgsObjective`) checks some of its rows.
    """
    if np.isfinite(network.params).all() and data.predictions_finite(network):
        return result
    return TrainingResult("diverged", "predictions overflow", result.state)


def predicts_finite(network, X):
    """Whether the predictions on the first (up to 256) rows of ``X`` are finite."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return bool(np.isfinite(network.predict(X[:256])).all())


# --------------------------------------------------------------------------
# L-BFGS
# --------------------------------------------------------------------------


class LbfgsObjective:
    """What :func:`fit_lbfgs` minimises: the full-data loss and its gradient.

    :class:`InMemoryObjective` computes them on arrays in this process;
    ``skdeep.dask`` sums them over the blocks of a cluster's workers. The
    vector SciPy works on is the network's ``params`` unless an objective
    lays it out otherwise (:meth:`initial_point`, :meth:`load`).
    """

    def loss_and_grad(self, flat_params):
        """Penalised mean loss at ``flat_params`` and its float64 gradient (a new array)."""
        raise NotImplementedError

    def predictions_finite(self, network):
        """Whether ``network`` predicts finite numbers on (some) training rows."""
        raise NotImplementedError

    def initial_point(self, network):
        """``network``'s parameters as the vector L-BFGS starts from (here in
        float64; SciPy evaluates the objective in the starting point's dtype)."""
        return network.params.astype(np.float64)

    def load(self, network, flat_params):
        """Set ``network``'s parameters from a vector laid out as :meth:`initial_point`'s."""
        network.params[...] = flat_params


class InMemoryObjective(LbfgsObjective):
    """The loss and gradient of arrays in memory, in one forward-backward pass.

    Parameters
    ----------
    network : Sequential
        The network; its ``params`` are overwritten at each evaluation.
    data : tuple of (X, Y, weights)
        The whole training set, as for :func:`fit_stochastic`.
    alpha : float
        L2 penalty.
    """

    def __init__(self, network, data, alpha):
        self.network, self.alpha = network, alpha
        self.X, self.Y, self.weights = data
        self.workspace = network.new_workspace(self.X.shape[0])

    def loss_and_grad(self, flat_params):
        self.network.params[...] = flat_params
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss = self.network.loss_and_gradient(
                self.X, self.Y, self.weights, self.alpha, self.workspace
            )
        # SciPy may keep the returned gradient, so hand it a copy.
        return loss, self.network.grad.astype(np.float64)

    def predictions_finite(self, network):
        return predicts_finite(network, self.X)


class SklearnOrderInMemoryObjective(LbfgsObjective):
    """scikit-learn's MLP objective on arrays in memory, operation for operation.

    See :class:`~skdeep._engine.SklearnOrderObjective`; SciPy works on a
    vector in scikit-learn's layout. The parameters are as for
    :class:`InMemoryObjective`.
    """

    def __init__(self, network, data, alpha):
        self.X = data[0]
        self.objective = SklearnOrderObjective(network, *data, alpha)

    def loss_and_grad(self, flat_params):
        # Overflow shows in the loss; fit_lbfgs reports it as divergence.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self.objective(flat_params)

    def predictions_finite(self, network):
        return predicts_finite(network, self.X)

    def initial_point(self, network):
        return self.objective.pack(network)

    def load(self, network, flat_params):
        self.objective.load(network, flat_params)


def prepare_lbfgs_loss(network, objective):
    """Set ``network.loss`` to compute what L-BFGS minimises with ``objective``.

    The loss value is computed in float64 for float32 logits (the line
    search compares values closer than float32 resolves). For
    ``"sklearn"``, when the engine computes the objective (networks that
    scikit-learn's MLP cannot express, and ``skdeep.dask``), it reports
    scikit-learn's loss: the log-losses of probabilities clipped to
    ``[eps, 1 - eps]`` and the squared error averaged over the outputs, with
    the gradient of their sum.
    """
    network.loss.precise_value = True
    if objective == "sklearn":
        network.loss.clip_eps = np.finfo(network.dtype).eps
        network.loss.mean_over_outputs = True


def _in_memory_objective(network, data, config):
    """The objective of ``config.objective`` on arrays in memory."""
    if config.objective == "sklearn" and SklearnOrderObjective.supports(network):
        return SklearnOrderInMemoryObjective(network, data, config.alpha)
    return InMemoryObjective(network, data, config.alpha)


_SCIPY_VERSION = tuple(int(part) for part in scipy.__version__.split(".")[:2])


def _scipy_options(config):
    """The ``options`` of L-BFGS-B, as scikit-learn sets them."""
    options = {"maxfun": config.max_fun, "maxiter": config.max_iter, "gtol": config.tol}
    if _SCIPY_VERSION < (1, 15):
        options["iprint"] = config.iprint
    return options


class _LbfgsProblem:
    """The objective SciPy minimises, and the per-iteration record."""

    def __init__(self, network, objective, state, observers):
        self.network, self.state = network, state
        self.objective = objective
        self.loss_and_grad = objective.loss_and_grad
        self.observers = observers

    def end_of_iteration(self, intermediate_result):
        loss = float(intermediate_result.fun)
        self.state.loss_curve.append(loss)
        record = {"epoch": len(self.state.loss_curve), "loss": loss}
        self.objective.load(self.network, intermediate_result.x)
        if _notify_stop(self.observers, self.network, record):
            raise StopIteration  # SciPy >= 1.11 ends the optimisation cleanly
        for observer in self.observers:
            observer.on_epoch_begin(self.network)


def fit_lbfgs(network, data, config, state=None, *, observers=()):
    """Full-batch training with SciPy's L-BFGS-B.

    Parameters
    ----------
    network : Sequential
        Network to train; its ``params`` hold the result on return.
    data : tuple of (X, Y, weights) or LbfgsObjective
        The whole training set, as for :func:`fit_stochastic`; or an
        :class:`LbfgsObjective` that computes the loss and gradient where
        the data is (``skdeep.dask``).
    config : LbfgsConfig
        Penalty, iteration and evaluation limits, gradient tolerance, and
        the objective: with ``"sklearn"``, in-memory data of a network
        scikit-learn's MLP can express is fitted with scikit-learn's
        operations (:class:`SklearnOrderInMemoryObjective`).
    state : TrainingState, default=None
        Progress to continue (a fresh one by default); L-BFGS fills
        ``n_iter``, ``loss`` and ``loss_curve``.
    observers : sequence of Observer, default=()
        Notified around every iteration.

    Returns
    -------
    result : TrainingResult
    """
    state = TrainingState() if state is None else state
    state.loss_curve = []
    observers = list(observers)
    prepare_lbfgs_loss(network, config.objective)
    objective = data if isinstance(data, LbfgsObjective) else _in_memory_objective(
        network, data, config
    )
    problem = _LbfgsProblem(network, objective, state, observers)
    for observer in observers:
        observer.on_train_begin(network)
        observer.on_epoch_begin(network)
    with scipy_blas_on_one_thread():
        solution = scipy.optimize.minimize(
            problem.loss_and_grad,
            objective.initial_point(network),
            method="L-BFGS-B",
            jac=True,
            callback=problem.end_of_iteration,
            options=_scipy_options(config),
        )
    objective.load(network, solution.x)
    state.n_iter = min(int(solution.nit), config.max_iter)
    state.loss = float(solution.fun)
    if not np.isfinite(solution.fun):
        result = TrainingResult("diverged", f"loss became {solution.fun}", state)
    else:
        status = "max_iter" if solution.status == 1 else "converged"
        result = _check_finite_predictions(
            TrainingResult(status, str(solution.message), state), objective, network
        )
    for observer in observers:
        observer.on_train_end(network, result)
    return result
