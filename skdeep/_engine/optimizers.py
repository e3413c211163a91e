"""Gradient-descent update rules on flat parameter vectors.

An optimizer sees two arrays, the parameters and their gradient, and updates
the parameters in place. A step is ``begin_step()`` (the step's scalars,
once) and ``update(params, grad, start, stop)`` on any run of whole chunks
(``chunk_edges``): the update is elementwise, so threads may update
disjoint slices of one step, each with the same BLAS calls as one thread
would make. It never prints, never decides to stop training and
knows nothing of layers: the training loop owns those decisions. All its state
is plain arrays and numbers (``state_dict``), so it can be saved with the
model and training can resume exactly where it stopped.
"""

import threading

import numpy as np

from ._linalg import axpy, axpy_cuts, scipy_blas_single_threaded

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "clip_by_global_norm",
    "make_optimizer",
]

# Elements per chunk of the update rules: each array's chunk (256 kB in
# float32) stays in the L2 cache between the passes over it, and the passes
# make few NumPy and BLAS calls, each of which holds Python's GIL (threads
# update at once). Measured on Adam, float32 and float64, 148k-547k
# parameters, one and two threads: 65,536 took 0.55-0.80x the time of 8,192
# (or the same, 148k float64 on two threads). The chunk size does not change
# the results (see axpy).
_CHUNK = 65536


class _UpdateRule:
    """What every update rule shares: ``step`` split into ``begin_step`` and ``update``."""

    _whole = False  # axpy's ``whole`` (set by begin_step)

    def _set_chunks(self, n_params, lr_scales=(), chunk_size=None):
        self._chunk_size = chunk_size or _CHUNK
        self._chunks = _chunks_with_factors(n_params, lr_scales, self._chunk_size)
        self.chunk_edges = [0, *(chunk.stop for chunk, _ in self._chunks)]
        # Only a vector that axpy would cut can be handed to it whole.
        self._may_be_whole = axpy_cuts(n_params)

    def step(self, params, grad):
        """Update ``params`` in place from ``grad``."""
        self.begin_step()
        self.update(params, grad, 0, params.size)

    def begin_step(self):
        """Count the step and compute its scalars (once per step)."""
        # Whole chunks in one BLAS call when SciPy's BLAS cannot thread them
        # (the same result; see axpy).
        self._whole = self._may_be_whole and scipy_blas_single_threaded()

    def update(self, params, grad, start, stop):
        """Update ``params[start:stop]``; ``start`` and ``stop`` are in ``chunk_edges``."""
        for chunk, factor in self._chunks:
            if chunk.start >= start and chunk.stop <= stop:
                self._update_chunk(params[chunk], grad[chunk], chunk, factor)

    def _update_chunk(self, params, grad, chunk, factor):
        raise NotImplementedError


class SGD(_UpdateRule):
    """Stochastic gradient descent with (Nesterov) momentum.

    With velocity ``v`` and learning rate ``lr``, one step is
    ``v <- momentum * v - lr * grad``, then ``params += v``, or with
    Nesterov's momentum ``params += momentum * v - lr * grad`` (sklearn's
    formulation).

    Parameters
    ----------
    n_params : int
        Length of the parameter vector.
    dtype : numpy dtype
        Dtype of the parameters.
    learning_rate : float
        Initial step size.
    momentum : float, default=0.9
        Fraction of the previous update kept, in ``[0, 1]``.
    nesterov : bool, default=True
        Whether to use Nesterov's momentum.
    """

    def __init__(self, n_params, dtype, learning_rate, momentum=0.9, nesterov=True):
        self.learning_rate = float(learning_rate)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.velocity = np.zeros(n_params, dtype=dtype)
        self._set_chunks(n_params)

    def _update_chunk(self, params, grad, chunk, factor):
        velocity = self.velocity[chunk]
        velocity *= self.momentum
        axpy(-self.learning_rate, grad, velocity, self._whole)
        if self.nesterov:
            axpy(self.momentum, velocity, params, self._whole)
            axpy(-self.learning_rate, grad, params, self._whole)
        else:
            params += velocity

    def state_dict(self):
        """Optimizer state as plain arrays and floats."""
        return {"learning_rate": self.learning_rate, "velocity": self.velocity.copy()}

    def load_state_dict(self, state):
        """Restore a state produced by :meth:`state_dict`."""
        self.learning_rate = float(state["learning_rate"])
        self.velocity[...] = state["velocity"]


class Adam(_UpdateRule):
    """Adam: per-parameter steps from running moments of the gradient.

    ``m`` and ``v`` are exponential averages of the gradient and of its
    square; the step is ``lr_t * m / (sqrt(v) + epsilon)`` with the bias
    correction folded into ``lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``
    (Kingma & Ba, 2014), as in sklearn.

    Parameters
    ----------
    n_params : int
        Length of the parameter vector.
    dtype : numpy dtype
        Dtype of the parameters.
    learning_rate : float
        Step size.
    beta_1, beta_2 : float
        Decay rates of the first and second moment estimates.
    epsilon : float
        Added to ``sqrt(v)`` for numerical stability.
    lr_scales : sequence of (int, int, float), default=()
        ``(start, stop, factor)``: parameters ``start:stop`` step with the
        learning rate times ``factor`` (a network's ``lr_scales``).
    chunk_size : int, default=None
        Elements updated per pass of each chunk (None: 65,536, which keeps
        every array's chunk in cache and makes few NumPy calls).
    """

    def __init__(self, n_params, dtype, learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 lr_scales=(), chunk_size=None):
        self.learning_rate = float(learning_rate)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.t = 0
        self.m = np.zeros(n_params, dtype=dtype)
        self.v = np.zeros(n_params, dtype=dtype)
        self._set_chunks(n_params, lr_scales, chunk_size)
        self._scratch = threading.local()
        self._dtype = np.dtype(dtype)
        self._step_size = 0.0

    def begin_step(self):
        super().begin_step()
        self.t += 1
        self._step_size = (
            self.learning_rate
            * np.sqrt(1.0 - self.beta_2**self.t)
            / (1.0 - self.beta_1**self.t)
        )

    # The nine passes below run chunk by chunk so that the chunk of every
    # array stays in cache between passes; on large models this is about
    # twice as fast as whole-vector passes, which stream through memory.
    def _update_chunk(self, params, grad, chunk, factor):
        self._step_chunk(params, grad, self.m[chunk], self.v[chunk], self._step_size * factor)

    def _scratch_of(self, size):
        """A scratch chunk of the calling thread (threads may update slices at once)."""
        scratch = getattr(self._scratch, "array", None)
        if scratch is None:
            scratch = self._scratch.array = np.empty(self._chunk_size, dtype=self._dtype)
        return scratch[:size]

    def _step_chunk(self, params, grad, m, v, step_size):
        scratch = self._scratch_of(params.size)
        m *= self.beta_1  # m <- beta_1 m + (1 - beta_1) g
        axpy(1.0 - self.beta_1, grad, m, self._whole)
        np.multiply(grad, grad, out=scratch)  # v <- beta_2 v + (1 - beta_2) g**2
        v *= self.beta_2
        axpy(1.0 - self.beta_2, scratch, v, self._whole)
        np.sqrt(v, out=scratch)  # params <- params - step * m / (sqrt(v) + eps)
        scratch += self.epsilon
        np.divide(m, scratch, out=scratch)
        axpy(-step_size, scratch, params, self._whole)

    def state_dict(self):
        """Optimizer state as plain arrays and numbers."""
        return {
            "learning_rate": self.learning_rate,
            "t": self.t,
            "m": self.m.copy(),
            "v": self.v.copy(),
        }

    def load_state_dict(self, state):
        """Restore a state produced by :meth:`state_dict`."""
        self.learning_rate = float(state["learning_rate"])
        self.t = int(state["t"])
        self.m[...] = state["m"]
        self.v[...] = state["v"]


def _chunks_with_factors(n_params, lr_scales, chunk_size=_CHUNK):
    """``(slice, factor)`` chunks of at most ``chunk_size`` elements covering the vector."""
    factors = np.ones(n_params)
    for start, stop, factor in lr_scales:
        factors[start:stop] = factor
    # Boundaries where the factor changes, then chunks within each run.
    edges = [0, *np.flatnonzero(np.diff(factors)) + 1, n_params] if n_params else [0, 0]
    chunks = []
    for start, stop in zip(edges[:-1], edges[1:]):
        for begin in range(int(start), int(stop), chunk_size):
            chunks.append((slice(begin, min(begin + chunk_size, int(stop))),
                           float(factors[start])))
    return chunks


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    After each Adam step the weights (not the biases) shrink by
    ``learning_rate * weight_decay`` times themselves. Unlike an L2 term in
    the loss, the decay is not rescaled by Adam's per-parameter step sizes.

    Parameters
    ----------
    n_params, dtype, learning_rate, beta_1, beta_2, epsilon
        As for :class:`Adam`.
    weight_decay : float, default=0.01
        Decay rate per unit of learning rate.
    n_decayed : int, default=None
        Number of leading parameters that decay (the weights, in the flat
        layout); None decays all.
    lr_scales, chunk_size
        As for :class:`Adam`.
    """

    def __init__(
        self,
        n_params,
        dtype,
        learning_rate,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        weight_decay=0.01,
        n_decayed=None,
        lr_scales=(),
        chunk_size=None,
    ):
        super().__init__(n_params, dtype, learning_rate, beta_1, beta_2, epsilon, lr_scales,
                         chunk_size)
        self.weight_decay = float(weight_decay)
        self.n_decayed = n_params if n_decayed is None else int(n_decayed)

    def _update_chunk(self, params, grad, chunk, factor):
        """Decoupled decay of the chunk's weights, then Adam's step on the chunk.

        Decayed chunk by chunk, while the chunk is in cache for Adam's
        passes: a separate pass over the whole vector would stream it through
        memory once more.
        """
        if self.weight_decay and chunk.start < self.n_decayed:
            params[: self.n_decayed - chunk.start] *= 1.0 - self.learning_rate * self.weight_decay
        super()._update_chunk(params, grad, chunk, factor)


class RMSprop(_UpdateRule):
    """RMSprop: divide the step by a running root mean square of the gradient.

    ``v <- rho v + (1 - rho) g**2``, then ``params -= lr * g / (sqrt(v) + eps)``.

    Parameters
    ----------
    n_params : int
        Length of the parameter vector.
    dtype : numpy dtype
        Dtype of the parameters.
    learning_rate : float
        Step size.
    rho : float, default=0.9
        Decay rate of the running mean of squared gradients.
    epsilon : float, default=1e-8
        Added to the root mean square for numerical stability.
    """

    def __init__(self, n_params, dtype, learning_rate, rho=0.9, epsilon=1e-8):
        self.learning_rate = float(learning_rate)
        self.rho = float(rho)
        self.epsilon = float(epsilon)
        self.v = np.zeros(n_params, dtype=dtype)
        self._scratch = np.empty(n_params, dtype=dtype)
        self._set_chunks(n_params)

    def update(self, params, grad, start, stop):
        # Whole-slice passes; axpy cuts them into the same chunks as one thread.
        part = slice(start, stop)
        self._update_chunk(params[part], grad[part], part, 1.0)

    def _update_chunk(self, params, grad, chunk, factor):
        scratch, v = self._scratch[chunk], self.v[chunk]
        np.multiply(grad, grad, out=scratch)
        v *= self.rho
        axpy(1.0 - self.rho, scratch, v, self._whole)
        np.sqrt(v, out=scratch)
        scratch += self.epsilon
        np.divide(grad, scratch, out=scratch)
        axpy(-self.learning_rate, scratch, params, self._whole)

    def state_dict(self):
        """Optimizer state as plain arrays and floats."""
        return {"learning_rate": self.learning_rate, "v": self.v.copy()}

    def load_state_dict(self, state):
        """Restore a state produced by :meth:`state_dict`."""
        self.learning_rate = float(state["learning_rate"])
        self.v[...] = state["v"]


def clip_by_global_norm(grad, max_norm):
    """Scale ``grad`` in place so that its Euclidean norm is at most ``max_norm``.

    Returns the norm before clipping.
    """
    norm = float(np.sqrt(np.dot(grad, grad)))
    if norm > max_norm:
        grad *= max_norm / norm
    return norm


#: Every mini-batch update rule, by the name the estimators' ``solver`` uses.
OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}


def make_optimizer(name, n_params, dtype, **options):
    """Build the optimizer called ``name``, a key of ``OPTIMIZERS``.

    Parameters
    ----------
    name : str
        The optimizer's registry key.
    n_params : int
        Length of the parameter vector.
    dtype : numpy dtype
        Dtype of the parameters and of the optimizer's state.
    **options
        Constructor arguments of that optimizer (``learning_rate``, ...).

    Returns
    -------
    optimizer : SGD, Adam, AdamW or RMSprop
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer {name!r}; choose from {sorted(OPTIMIZERS)}.")
    return OPTIMIZERS[name](n_params, dtype, **options)
