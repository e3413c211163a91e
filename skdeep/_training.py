"""Training loops on clean arrays: epochs, mini-batches, stopping, history.

This module sits between the engine (which computes losses, gradients and
updates) and the estimators (which validate data and own sklearn's
conventions). It receives arrays already in the compute dtype and a network,
and it reports what happened; it never validates user input.
"""

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize
import scipy.sparse as sp

from ._engine import clip_by_global_norm, scipy_blas_on_one_thread

__all__ = ["Progress", "StochasticConfig", "TrainingOutcome", "fit_stochastic", "fit_lbfgs"]


@dataclass
class Progress:
    """Training progress that persists across ``fit`` / ``partial_fit`` calls.

    Everything is a builtin number or list, so an estimator can store it as
    fitted attributes (sklearn's ``n_iter_``, ``t_``, ``loss_curve_`` ...).
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


@dataclass
class TrainingOutcome:
    """How a training run ended.

    ``status`` is one of ``"converged"`` (stopping criterion met),
    ``"max_iter"`` (ran out of epochs or iterations), ``"incremental"`` (one
    ``partial_fit`` epoch done), ``"interrupted"`` (KeyboardInterrupt; the
    weights of the last completed epoch were kept) or ``"diverged"`` (the
    loss became non-finite; the weights of the last finite epoch were kept).
    """

    status: str
    message: str = ""


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

    def slice(self, start, stop):
        """Rows ``start:stop`` as views (no copy for dense data)."""
        weights = None if self.weights is None else self.weights[start:stop]
        return self.X[start:stop], self.Y[start:stop], weights


def _run_epoch(network, optimizer, gatherer, workspace, order, config):
    """One pass over the training data; returns the mean batch loss."""
    n_samples = gatherer.X.shape[0]
    accumulated = 0.0
    for start, stop in _batches(n_samples, workspace.batch_size):
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


def _update_stopping(progress, config, score, network, best_params):
    """Track improvement of the monitored quantity (sklearn's rule).

    With early stopping, the monitored quantity is the validation score
    (higher is better) and the best weights are remembered; otherwise it is
    the training loss.
    """
    if config.early_stopping:
        if score < progress.best_validation_score + config.tol:
            progress.no_improvement_count += 1
        else:
            progress.no_improvement_count = 0
        if score > progress.best_validation_score:
            progress.best_validation_score = score
            np.copyto(best_params, network.params)
        return
    loss = progress.loss_curve[-1]
    if loss > progress.best_loss - config.tol:
        progress.no_improvement_count += 1
    else:
        progress.no_improvement_count = 0
    progress.best_loss = min(progress.best_loss, loss)


def _epoch_record(progress, epoch_loss, learning_rate, seconds, validation, network):
    """One row of the training history; appends the validation score too."""
    record = {
        "epoch": len(progress.history) + 1,
        "loss": epoch_loss,
        "learning_rate": learning_rate,
        "time": seconds,
    }
    if validation is not None:
        score, validation_loss = validation(network)
        record["validation_score"] = score
        record["validation_loss"] = validation_loss
        if progress.validation_scores is not None:
            progress.validation_scores.append(score)
    progress.history.append(record)
    return record


def _format_record(record):
    """One compact verbose line per epoch: sklearn's, plus score and time."""
    line = f"Iteration {record['epoch']}, loss = {record['loss']:.8f}"
    if "validation_score" in record:
        line += f", validation score = {record['validation_score']:.6f}"
    return line + f", time = {record['time']:.3f}s"


def _plateau_message(config, early_stopping):
    monitored = "Validation score" if early_stopping else "Training loss"
    return (
        f"{monitored} did not improve more than tol={config.tol:f} for "
        f"{config.n_iter_no_change} consecutive epochs."
    )


def fit_stochastic(
    network,
    optimizer,
    schedule,
    X,
    Y,
    weights,
    config,
    progress,
    random_state,
    validation=None,
    log=None,
    dropout_random_state=None,
    hooks=None,
):
    """Mini-batch training: the epoch loop of the stochastic solvers.

    Parameters
    ----------
    network : Network
        Network to train; its ``params`` are updated in place.
    optimizer : SGD or Adam
        Update rule, with its state from earlier calls when continuing.
    schedule : learning-rate schedule
        Consulted at the end of every epoch and at plateaus.
    X : {ndarray, CSR matrix} of shape (n_samples, n_features)
        Training inputs in the network's dtype.
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded training targets in the network's dtype.
    weights : ndarray of shape (n_samples,) or None
        Sample weights.
    config : StochasticConfig
        Batch size, epochs, tolerance and penalty.
    progress : Progress
        Counters and curves; updated in place.
    random_state : numpy.random.RandomState
        Source of the per-epoch shuffles.
    validation : callable, default=None
        ``validation(network) -> (score, loss)`` on held-out data, called
        after every epoch and recorded in the history. With
        ``config.early_stopping`` the score (higher is better) drives
        stopping and the best weights are restored.
    log : callable, default=None
        Receives one line of text per epoch (verbose output).
    dropout_random_state : numpy.random.Generator, default=None
        Source of dropout masks, for networks with dropout.
    hooks : EpochHooks, default=None
        Called around every epoch (sklearn callbacks); ``hooks.epoch_end``
        returning True stops training.

    Returns
    -------
    outcome : TrainingOutcome
    """
    n_samples = X.shape[0]
    uses_dropout = any(rate > 0 for rate in network.dropout)
    workspace = network.new_workspace(
        config.batch_size, dropout_random_state if uses_dropout else None
    )
    gatherer = _BatchGatherer(X, Y, weights, config.batch_size)
    last_good = network.params.copy()
    best_params = network.params.copy() if config.early_stopping else None
    outcome = TrainingOutcome("max_iter")
    order = np.arange(n_samples) if config.shuffle else None
    optimizer.learning_rate = schedule.start(optimizer.learning_rate, len(progress.loss_curve))
    try:
        for _ in range(config.max_iter):
            if config.shuffle:
                # Reshuffle the previous order (as sklearn does), so the same
                # random_state visits the same batches as sklearn's MLP.
                order = order[random_state.permutation(n_samples)]
            if hooks is not None:
                hooks.epoch_begin(network)
            started = time.perf_counter()
            learning_rate = optimizer.learning_rate
            # Overflow is how divergence shows; it is detected just below.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                epoch_loss = _run_epoch(network, optimizer, gatherer, workspace, order, config)
            if not (np.isfinite(epoch_loss) and np.isfinite(network.params).all()):
                network.params[...] = last_good
                outcome = TrainingOutcome("diverged", f"loss became {epoch_loss}")
                break
            np.copyto(last_good, network.params)
            progress.n_iter += 1
            progress.t += n_samples
            progress.loss = epoch_loss
            progress.loss_curve.append(epoch_loss)
            record = _epoch_record(
                progress, epoch_loss, learning_rate, time.perf_counter() - started,
                validation, network,
            )
            if log is not None:
                log(_format_record(record))
            _update_stopping(progress, config, record.get("validation_score"), network, best_params)
            optimizer.learning_rate = schedule.on_epoch_end(
                optimizer.learning_rate, progress.t, len(progress.loss_curve)
            )
            if progress.no_improvement_count > config.n_iter_no_change:
                message = _plateau_message(config, config.early_stopping)
                new_rate, stop = schedule.on_plateau(optimizer.learning_rate)
                if stop:
                    outcome = TrainingOutcome("converged", message)
                    if log is not None:
                        log(message + " Stopping.")
                    break
                optimizer.learning_rate = new_rate
                progress.no_improvement_count = 0
                if log is not None:
                    log(message + f" Setting learning rate to {new_rate:f}")
            if hooks is not None and hooks.epoch_end(network):
                outcome = TrainingOutcome("converged", "Stopped by a callback.")
                break
            if config.incremental:
                outcome = TrainingOutcome("incremental")
                break
    except KeyboardInterrupt:
        network.params[...] = last_good
        outcome = TrainingOutcome("interrupted", "Training interrupted by user.")
    if config.early_stopping:
        network.params[...] = best_params
    return outcome


def fit_lbfgs(network, X, Y, weights, alpha, max_iter, max_fun, tol, log=None, hooks=None):
    """Full-batch training with SciPy's L-BFGS-B.

    Parameters
    ----------
    network : Network
        Network to train; its ``params`` hold the result on return.
    X, Y, weights : arrays
        Whole training set, as for :func:`fit_stochastic`.
    alpha : float
        L2 penalty.
    max_iter, max_fun : int
        Limits on iterations and on loss evaluations.
    tol : float
        Projected-gradient tolerance (``gtol``).
    log : callable, default=None
        Receives one line per iteration.
    hooks : EpochHooks, default=None
        Called around every iteration (sklearn callbacks); ``hooks.epoch_end``
        returning True stops the optimisation.

    Returns
    -------
    outcome : TrainingOutcome
    n_iter : int
    loss : float
    loss_curve : list of float
        Loss after every iteration.
    """
    workspace = network.new_workspace(X.shape[0])
    network.loss.precise_value = True
    loss_curve = []

    def loss_and_grad(flat_params):
        network.params[...] = flat_params
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss = network.loss_and_gradient(X, Y, weights, alpha, workspace)
        # SciPy may keep the returned gradient, so hand it a copy.
        return loss, network.grad.astype(np.float64)

    def record(intermediate_result):
        loss_curve.append(float(intermediate_result.fun))
        if log is not None:
            log(f"Iteration {len(loss_curve)}, loss = {loss_curve[-1]:.8f}")
        if hooks is not None:
            network.params[...] = intermediate_result.x
            if hooks.epoch_end(network):
                raise StopIteration  # SciPy >= 1.11 ends the optimisation cleanly
            hooks.epoch_begin(network)

    if hooks is not None:
        hooks.epoch_begin(network)

    with scipy_blas_on_one_thread():
        result = scipy.optimize.minimize(
            loss_and_grad,
            network.params.astype(np.float64),
            method="L-BFGS-B",
            jac=True,
            callback=record,
            options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
        )
    network.params[...] = result.x
    if not np.isfinite(result.fun):
        outcome = TrainingOutcome("diverged", f"loss became {result.fun}")
    elif result.status == 1:
        outcome = TrainingOutcome("max_iter", str(result.message))
    else:
        outcome = TrainingOutcome("converged", str(result.message))
    return outcome, int(result.nit), float(result.fun), loss_curve
