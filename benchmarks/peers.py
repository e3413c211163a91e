"""The four benchmark peers: skdeep, sklearn, a plain PyTorch loop, GEMM floor.

Each ``run_*`` function takes a :class:`~benchmarks.workloads.Workload` and the
``(X_train, X_test, y_train, y_test)`` tuple and returns a flat dict of
metrics.  Training workloads report::

    fit_seconds, cpu_seconds, epochs, sec_per_epoch, cpu_sec_per_epoch,
    samples_per_sec, peak_mem_mb, final_loss, score, score_name

and the latency workload reports ``us_per_call`` (median over single calls)
instead of the per-epoch numbers.  "Epoch" means one pass over the training
set for Adam and one optimizer iteration for L-BFGS.
"""

from __future__ import annotations

import time
import warnings
from contextlib import contextmanager
from dataclasses import replace

import numpy as np

from ._memory import PeakRSS
from .workloads import MODEL_SEED, Workload, estimator_params, layer_sizes

LATENCY_WARMUP = 200


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def _score_name(wl: Workload) -> str:
    return "accuracy" if wl.task == "clf" else "r2"


class Stopwatch:
    """Wall-clock and process CPU time of a block (``wall``, ``cpu`` seconds).

    CPU time (all threads of this process) is much less sensitive than wall
    time to other programs competing for the cores; with one thread a
    ``cpu / wall`` well below 1 reveals a contended measurement.
    """

    def __enter__(self):
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu
        return False


def _fit_metrics(wl, n_train, clock, epochs, mem, final_loss, score):
    """Assemble the common metric dict of a training run timed by ``clock``."""
    epochs = max(int(epochs), 1)
    fit_seconds = clock.wall
    return dict(
        fit_seconds=fit_seconds,
        cpu_seconds=clock.cpu,
        epochs=epochs,
        sec_per_epoch=fit_seconds / epochs,
        cpu_sec_per_epoch=clock.cpu / epochs,
        samples_per_sec=n_train * epochs / fit_seconds,
        peak_mem_mb=mem.peak_mb,
        mem_method=mem.method,
        final_loss=float(final_loss) if final_loss is not None else None,
        score=float(score) if score is not None else None,
        score_name=_score_name(wl),
    )


def _median_call_us(fn, calls: int, warmup: int = LATENCY_WARMUP) -> float:
    """Median wall time of ``fn()`` in microseconds over ``calls`` calls."""
    for _ in range(warmup):
        fn()
    times = np.empty(calls)
    clock = time.perf_counter_ns
    for i in range(calls):
        t0 = clock()
        fn()
        times[i] = clock() - t0
    return float(np.median(times) / 1e3)


@contextmanager
def _record_scipy_minimize():
    """Record ``nfev``/``nit`` of ``scipy.optimize.minimize`` calls.

    Used for L-BFGS fits only, to learn how many function evaluations the
    estimator made (sklearn does not expose it).  The wrapper adds one Python
    call per fit, which is negligible.
    """
    import scipy.optimize

    original = scipy.optimize.minimize
    record = {}

    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        record["nfev"] = int(getattr(result, "nfev", 0)) or None
        record["nit"] = int(getattr(result, "nit", 0)) or None
        return result

    scipy.optimize.minimize = wrapper
    try:
        yield record
    finally:
        scipy.optimize.minimize = original


def estimator_class(wl: Workload, impl: str, skdeep_fallback: bool = False):
    """Return the MLP class of ``impl`` ("skdeep" or "sklearn") for ``wl``."""
    name = "MLPClassifier" if wl.task == "clf" else "MLPRegressor"
    if impl == "skdeep" and not skdeep_fallback:
        import skdeep

        return getattr(skdeep, name)
    import sklearn.neural_network

    return getattr(sklearn.neural_network, name)


# --------------------------------------------------------------------------
# skdeep / sklearn
# --------------------------------------------------------------------------
def fit_estimator(wl: Workload, cls, data):
    """Fit ``cls`` with the workload's parameters; return ``(est, metrics)``."""
    from sklearn.exceptions import ConvergenceWarning

    X_train, X_test, y_train, y_test = data
    est = cls(**estimator_params(wl))
    recorder = _record_scipy_minimize() if wl.solver == "lbfgs" else _null()
    with warnings.catch_warnings(), recorder as record:
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*[Mm]aximum iter")
        with PeakRSS() as mem, Stopwatch() as clock:
            est.fit(X_train, y_train)
    metrics = _fit_metrics(wl, len(X_train), clock, est.n_iter_, mem,
                           est.loss_, est.score(X_test, y_test))
    metrics["coef_dtype"] = str(est.coefs_[0].dtype)
    if wl.solver == "lbfgs":
        metrics["nfev"] = record.get("nfev")
        metrics["nit"] = record.get("nit")
    return est, metrics


@contextmanager
def _null():
    """A do-nothing recorder for non-L-BFGS fits."""
    yield {}


def _warmup_rows(wl: Workload, n: int) -> int:
    """Rows used by warm-up fits: two mini-batches (or 256 rows for L-BFGS)."""
    return min(n, 2 * wl.batch_size if wl.batch_size else 256)


def _warmup_workload(wl: Workload) -> Workload:
    """A one-epoch (two-iteration for L-BFGS) copy of ``wl`` for warm-up."""
    return replace(wl, epochs=2 if wl.solver == "lbfgs" else 1, mode="fit")


def warmup_estimator(wl: Workload, cls, data) -> None:
    """Untimed tiny fit so one-time library initialisation is not measured."""
    X_train, X_test, y_train, y_test = data
    m = _warmup_rows(wl, len(X_train))
    if wl.task == "clf":  # make sure every class is present in the subset
        m = max(m, _rows_covering_classes(y_train, m))
    fit_estimator(_warmup_workload(wl), cls,
                  (X_train[:m], X_test[:m], y_train[:m], y_test[:m]))


def _rows_covering_classes(y, m: int) -> int:
    """Smallest prefix length >= m containing every label of ``y``."""
    labels = np.unique(y)
    first = [int(np.argmax(y == c)) for c in labels]
    return max(m, max(first) + 1)


def run_estimator(wl: Workload, data, impl: str, skdeep_fallback=False,
                  warmup=True):
    """skdeep or sklearn peer: a timed fit, or one-row predict_proba latency."""
    cls = estimator_class(wl, impl, skdeep_fallback)
    if warmup:
        warmup_estimator(wl, cls, data)
    est, metrics = fit_estimator(wl, cls, data)
    if wl.mode == "latency":
        row = data[1][:1]
        with PeakRSS() as mem:
            metrics["us_per_call"] = _median_call_us(
                lambda: est.predict_proba(row), wl.latency_calls)
        metrics["peak_mem_mb"] = mem.peak_mb
    return metrics


# --------------------------------------------------------------------------
# PyTorch
# --------------------------------------------------------------------------
def _torch_activation(name: str):
    import torch.nn as nn

    return {"relu": nn.ReLU, "tanh": nn.Tanh, "logistic": nn.Sigmoid,
            "identity": nn.Identity}[name]()


def build_torch_model(sizes, activation: str, dtype: str):
    """``Linear -> act -> ... -> Linear`` with the same layer sizes as sklearn."""
    import torch
    import torch.nn as nn

    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(_torch_activation(activation))
    return nn.Sequential(*layers).to(getattr(torch, dtype))


class _TorchTask:
    """Loss, targets and evaluation matching sklearn's output layer."""

    def __init__(self, wl: Workload, sizes, y_train, dtype):
        import torch

        self.wl = wl
        self.kind = ("reg" if wl.task == "reg"
                     else "binary" if sizes[-1] == 1 else "multi")
        if self.kind == "multi":
            self.classes, codes = np.unique(y_train, return_inverse=True)
            self.y = torch.from_numpy(codes.astype(np.int64))
        elif self.kind == "binary":
            self.classes, codes = np.unique(y_train, return_inverse=True)
            self.y = torch.from_numpy(codes.astype(dtype))
        else:
            self.y = torch.from_numpy(np.ascontiguousarray(y_train, dtype=dtype))

    def data_loss(self, out, yb):
        """sklearn's data loss: cross-entropy / binary log-loss / half MSE."""
        import torch.nn.functional as F

        if self.kind == "multi":
            return F.cross_entropy(out, yb)
        if self.kind == "binary":
            return F.binary_cross_entropy_with_logits(out[:, 0], yb)
        return 0.5 * F.mse_loss(out[:, 0], yb)

    def score(self, model, X_test, y_test) -> float:
        """Held-out accuracy or R^2 (plain NumPy: no scikit-learn import)."""
        import torch

        with torch.no_grad():
            out = model(torch.from_numpy(X_test)).numpy()
        if self.kind == "reg":
            resid = np.sum((y_test - out[:, 0]) ** 2, dtype=np.float64)
            total = np.sum((y_test - y_test.mean()) ** 2, dtype=np.float64)
            return 1.0 - resid / total
        codes = (out[:, 0] > 0).astype(int) if self.kind == "binary" else out.argmax(1)
        return float(np.mean(self.classes[codes] == y_test))


def _weights(model):
    return [p for name, p in model.named_parameters() if name.endswith("weight")]


def _train_torch_adam(wl, model, task, X_t):
    """Mini-batch Adam loop; returns the last epoch's mean loss (sklearn's)."""
    import torch

    opt = torch.optim.Adam(model.parameters(), lr=wl.learning_rate_init,
                           betas=(0.9, 0.999), eps=1e-8)
    weights = _weights(model)
    n, bs = X_t.shape[0], wl.batch_size
    gen = torch.Generator().manual_seed(MODEL_SEED)
    epoch_loss = None
    for _ in range(wl.epochs):
        perm = torch.randperm(n, generator=gen)
        acc = torch.zeros((), dtype=X_t.dtype)
        for start in range(0, n, bs):
            idx = perm[start:start + bs]
            m = idx.shape[0]
            opt.zero_grad(set_to_none=True)
            loss = task.data_loss(model(X_t[idx]), task.y[idx])
            loss.backward()
            with torch.no_grad():
                # sklearn's L2: grad += alpha * W / batch, weights only, and
                # loss += 0.5 * alpha * ||W||^2 / batch.
                penalty = sum(w.pow(2).sum() for w in weights)
                for w in weights:
                    w.grad.add_(w, alpha=wl.alpha / m)
                acc += (loss.detach() + 0.5 * wl.alpha * penalty / m) * m
            opt.step()
        epoch_loss = float(acc) / n
    return epoch_loss, wl.epochs, None


def _train_torch_lbfgs(wl, model, task, X_t):
    """Full-batch torch.optim.LBFGS (strong-Wolfe line search, history 10)."""
    import torch

    weights = _weights(model)
    n = X_t.shape[0]
    opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=wl.epochs,
                            max_eval=15000, history_size=10,
                            tolerance_grad=0.0, tolerance_change=1e-12,
                            line_search_fn="strong_wolfe")

    def objective():
        penalty = sum(w.pow(2).sum() for w in weights)
        return task.data_loss(model(X_t), task.y) + 0.5 * wl.alpha * penalty / n

    def closure():
        opt.zero_grad(set_to_none=True)
        loss = objective()
        loss.backward()
        return loss

    opt.step(closure)
    state = opt.state[opt._params[0]]
    with torch.no_grad():
        final = float(objective())
    return final, state.get("n_iter", wl.epochs), state.get("func_evals")


def _torch_setup(wl: Workload, X_train, y_train):
    """Model, task and training function for ``wl`` on the given data."""
    dtype = str(X_train.dtype)
    sizes = layer_sizes(wl, X_train, y_train)
    model = build_torch_model(sizes, wl.activation, dtype)
    task = _TorchTask(wl, sizes, y_train, dtype)
    train = _train_torch_lbfgs if wl.solver == "lbfgs" else _train_torch_adam
    return model, task, train


def warmup_torch(wl: Workload, data) -> None:
    """Untimed tiny training run on a throwaway model (lazy kernel init)."""
    import torch

    X_train, _, y_train, _ = data
    m = _warmup_rows(wl, len(X_train))
    if wl.task == "clf":
        m = _rows_covering_classes(y_train, m)
    wwl = _warmup_workload(wl)
    model, task, train = _torch_setup(wwl, X_train[:m], y_train[:m])
    train(wwl, model, task, torch.from_numpy(X_train[:m]))
    if wl.mode == "latency":
        with torch.no_grad():
            model(torch.from_numpy(X_train[:1]))


def run_torch(wl: Workload, data, threads: int | None, warmup=True):
    """Plain PyTorch CPU peer (same architecture, optimiser and batching).

    ``threads`` is passed to ``torch.set_num_threads``; ``None`` keeps
    PyTorch's default (one thread per physical core).
    """
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    if warmup:
        warmup_torch(wl, data)
    torch.manual_seed(MODEL_SEED)
    X_train, X_test, y_train, y_test = data
    model, task, train = _torch_setup(wl, X_train, y_train)
    with PeakRSS() as mem, Stopwatch() as clock:
        X_t = torch.from_numpy(X_train)
        final_loss, epochs, nfev = train(wl, model, task, X_t)
    metrics = _fit_metrics(wl, len(X_train), clock, epochs, mem,
                           final_loss, task.score(model, X_test, y_test))
    metrics["torch_version"] = torch.__version__
    metrics["torch_threads"] = torch.get_num_threads()
    if nfev is not None:
        metrics["nfev"] = int(nfev)
    if wl.mode == "latency":
        metrics.update(_torch_latency(wl, model, X_test[:1]))
    return metrics


def _torch_latency(wl, model, row):
    """One-row ``softmax(model(x))`` including numpy<->tensor conversion."""
    import torch

    model.eval()

    def call():
        with torch.no_grad():
            return torch.softmax(model(torch.from_numpy(row)), dim=1).numpy()

    with PeakRSS() as mem:
        us = _median_call_us(call, wl.latency_calls)
    return dict(us_per_call=us, peak_mem_mb=mem.peak_mb)


# --------------------------------------------------------------------------
# GEMM floor
# --------------------------------------------------------------------------
def _gemm_buffers(sizes, rows, dtype, rng):
    """Preallocated outputs/deltas for one batch of ``rows`` samples."""
    n_layers = len(sizes) - 1
    return dict(
        z=[np.empty((rows, sizes[l + 1]), dtype) for l in range(n_layers)],
        delta=[rng.standard_normal((rows, sizes[l + 1])).astype(dtype)
               for l in range(n_layers)],
        back=[np.empty((rows, sizes[l]), dtype) for l in range(n_layers)],
    )


def _gemm_step(xb, weights, grads, buf):
    """The matrix products of one forward+backward pass over batch ``xb``.

    forward ``A_l @ W_l`` for every layer, backward ``delta_l @ W_l.T`` for
    every layer but the first, and ``A_l.T @ delta_l`` for every layer.
    """
    z, delta, back = buf["z"], buf["delta"], buf["back"]
    a = xb
    for l, w in enumerate(weights):
        np.matmul(a, w, out=z[l])
        a = z[l]
    for l in range(len(weights) - 1, 0, -1):
        np.matmul(delta[l], weights[l].T, out=back[l])
    a = xb
    for l, g in enumerate(grads):
        np.matmul(a.T, delta[l], out=g)
        a = z[l]


def run_gemm_floor(wl: Workload, data, warmup=True):
    """Time only the GEMMs a training epoch needs, in NumPy, same dtype."""
    X_train, _, y_train, _ = data
    dtype = X_train.dtype
    sizes = layer_sizes(wl, X_train, y_train)
    rng = np.random.default_rng(MODEL_SEED)
    weights = [(rng.standard_normal((a, b)) / np.sqrt(a)).astype(dtype)
               for a, b in zip(sizes[:-1], sizes[1:])]
    grads = [np.empty_like(w) for w in weights]
    if wl.mode == "latency":
        return _gemm_latency(wl, X_train[:1], weights)
    n = len(X_train)
    bs = n if wl.solver == "lbfgs" else min(wl.batch_size, n)
    slices = [slice(s, min(s + bs, n)) for s in range(0, n, bs)]
    bufs = {rows: _gemm_buffers(sizes, rows, dtype, rng)
            for rows in {sl.stop - sl.start for sl in slices}}
    if warmup:
        for rows, buf in bufs.items():
            _gemm_step(X_train[:rows], weights, grads, buf)
    with PeakRSS() as mem, Stopwatch() as clock:
        for _ in range(wl.epochs):
            for sl in slices:
                _gemm_step(X_train[sl], weights, grads, bufs[sl.stop - sl.start])
    metrics = _fit_metrics(wl, n, clock, wl.epochs, mem, None, None)
    if wl.solver == "lbfgs":
        metrics["note"] = "time per full-batch forward+backward (one evaluation)"
    return metrics


def _gemm_latency(wl, row, weights):
    """Median time of the raw one-row matmul chain ``x @ W_0 @ ... @ W_L``."""
    outs = [np.empty((1, w.shape[1]), row.dtype) for w in weights]

    def call():
        a = row
        for w, out in zip(weights, outs):
            np.matmul(a, w, out=out)
            a = out

    with PeakRSS() as mem:
        us = _median_call_us(call, wl.latency_calls)
    return dict(us_per_call=us, peak_mem_mb=mem.peak_mb, final_loss=None,
                score=None, score_name=_score_name(wl))
