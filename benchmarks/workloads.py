"""Workload definitions and seeded synthetic data for the skdeep benchmarks.

Every workload is described by a :class:`Workload` record.  Data are built
deterministically (fixed seeds) so that every peer, in every subprocess, sees
exactly the same train/test split.  Importing this module imports NumPy, so
thread-limiting environment variables must be set before importing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DATA_SEED = 0
SPLIT_SEED = 42
MODEL_SEED = 0
TEST_SIZE = 0.2
DTYPES = ("float64", "float32")
PEERS = ("skdeep", "sklearn", "torch", "gemm_floor")


@dataclass(frozen=True)
class Workload:
    """One benchmark scenario.

    Attributes
    ----------
    name : str
        Identifier used on the command line and in reports.
    task : {"clf", "reg"}
        Classification or regression.
    data : dict
        Keyword arguments describing the synthetic data set (``kind`` selects
        the generator: ``"classification"``, ``"regression"`` or ``"digits"``).
    hidden : tuple of int
        ``hidden_layer_sizes``.
    solver : {"adam", "lbfgs"}
        Optimiser.
    batch_size : int or None
        Mini-batch size (``None`` for full-batch L-BFGS).
    epochs : int
        Number of epochs (``max_iter``) every peer runs.
    mode : {"fit", "latency"}
        ``"fit"`` times training; ``"latency"`` times one-row predictions.
    latency_calls : int
        Number of timed one-row calls for ``mode="latency"``.
    """

    name: str
    task: str
    data: dict
    hidden: tuple
    solver: str = "adam"
    batch_size: int | None = 200
    epochs: int = 10
    mode: str = "fit"
    latency_calls: int = 2000
    activation: str = "relu"
    alpha: float = 1e-4
    learning_rate_init: float = 1e-3
    extra: dict = field(default_factory=dict)


WORKLOADS = {
    w.name: w
    for w in (
        Workload(
            name="clf-small",
            task="clf",
            data=dict(kind="classification", n_samples=20_000, n_features=50,
                      n_informative=20, n_classes=5),
            hidden=(100,), batch_size=200, epochs=10,
        ),
        Workload(
            name="clf-wide",
            task="clf",
            data=dict(kind="classification", n_samples=50_000, n_features=100,
                      n_informative=40, n_classes=10),
            hidden=(512, 512), batch_size=256, epochs=5,
        ),
        Workload(
            name="reg-deep",
            task="reg",
            data=dict(kind="regression", n_samples=50_000, n_features=64,
                      n_informative=32, noise=10.0),
            hidden=(256, 256, 256), batch_size=128, epochs=5,
        ),
        Workload(
            name="clf-tiny-batch",
            task="clf",
            data=dict(kind="classification", n_samples=20_000, n_features=20,
                      n_informative=10, n_classes=2),
            hidden=(64,), batch_size=32, epochs=5,
        ),
        Workload(
            name="lbfgs-small",
            task="clf",
            data=dict(kind="digits"),
            hidden=(64,), solver="lbfgs", batch_size=None, epochs=200,
        ),
        Workload(
            name="predict-latency",
            task="clf",
            data=dict(kind="classification", n_samples=20_000, n_features=50,
                      n_informative=20, n_classes=5),
            hidden=(100,), batch_size=200, epochs=10, mode="latency",
            latency_calls=2000,
        ),
    )
}

# Smaller settings used by ``run.py --quick`` (a smoke test of the harness).
QUICK_OVERRIDES = dict(epochs_cap=1, lbfgs_iters=20, latency_calls=200,
                       max_samples=4_000)


def quick_variant(wl: Workload) -> Workload:
    """Return a shrunken copy of ``wl`` for smoke runs (``--quick``)."""
    data = dict(wl.data)
    if "n_samples" in data:
        data["n_samples"] = min(data["n_samples"], QUICK_OVERRIDES["max_samples"])
    epochs = (QUICK_OVERRIDES["lbfgs_iters"] if wl.solver == "lbfgs"
              else min(wl.epochs, QUICK_OVERRIDES["epochs_cap"]))
    return Workload(**{**wl.__dict__, "data": data, "epochs": epochs,
                       "latency_calls": QUICK_OVERRIDES["latency_calls"]})


def _raw_data(spec: dict):
    """Generate the unsplit ``(X, y)`` described by ``spec``."""
    from sklearn.datasets import load_digits, make_classification, make_regression

    spec = dict(spec)
    kind = spec.pop("kind")
    if kind == "classification":
        return make_classification(random_state=DATA_SEED, **spec)
    if kind == "regression":
        return make_regression(random_state=DATA_SEED, **spec)
    if kind == "digits":
        return load_digits(return_X_y=True)
    raise ValueError(f"unknown data kind {kind!r}")


def load_data(wl: Workload, dtype: str):
    """Build the train/test split of ``wl`` in ``dtype``.

    Features are standardised with a ``StandardScaler`` fitted on the training
    part; for regression the target is standardised the same way.

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray
        ``X`` is C-contiguous in ``dtype``; ``y`` holds integer labels for
        classification and ``dtype`` floats for regression.
    """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = _raw_data(wl.data)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, random_state=SPLIT_SEED)
    scaler = StandardScaler().fit(X_train)
    X_train = np.ascontiguousarray(scaler.transform(X_train), dtype=dtype)
    X_test = np.ascontiguousarray(scaler.transform(X_test), dtype=dtype)
    if wl.task == "reg":
        mean, std = y_train.mean(), y_train.std()
        y_train = ((y_train - mean) / std).astype(dtype)
        y_test = ((y_test - mean) / std).astype(dtype)
    return X_train, X_test, y_train, y_test


def _cache_path(cache_dir, wl: Workload, dtype: str, quick: bool):
    from pathlib import Path

    tag = "quick-" if quick else ""
    return Path(cache_dir) / f"{tag}{wl.name}-{dtype}.npz"


def write_cache(cache_dir, wl: Workload, dtype: str, quick: bool = False) -> None:
    """Generate ``wl``'s split once and save it for the worker processes."""
    X_train, X_test, y_train, y_test = load_data(wl, dtype)
    np.savez(_cache_path(cache_dir, wl, dtype, quick), X_train=X_train,
             X_test=X_test, y_train=y_train, y_test=y_test)


def cached_data(cache_dir, wl: Workload, dtype: str, quick: bool = False):
    """Load the split saved by :func:`write_cache`, else generate it.

    Loading a ``.npz`` is much cheaper than generating the data and lets the
    GEMM-floor and PyTorch workers run without importing scikit-learn.
    """
    path = _cache_path(cache_dir, wl, dtype, quick) if cache_dir else None
    if path is None or not path.exists():
        return load_data(wl, dtype)
    with np.load(path) as f:
        return tuple(np.ascontiguousarray(f[k]) for k in
                     ("X_train", "X_test", "y_train", "y_test"))


def layer_sizes(wl: Workload, X_train, y_train) -> list[int]:
    """Units per layer, input and output included, as sklearn builds them.

    Binary classification uses one logistic output unit, multi-class one unit
    per class, regression one identity unit.
    """
    if wl.task == "clf":
        n_classes = len(np.unique(y_train))
        n_out = 1 if n_classes == 2 else n_classes
    else:
        n_out = 1
    return [X_train.shape[1], *wl.hidden, n_out]


def estimator_params(wl: Workload) -> dict:
    """Constructor keyword arguments shared by skdeep and sklearn.

    ``tol=0`` with a never-reached ``n_iter_no_change`` (Adam) makes every peer
    run exactly ``wl.epochs`` epochs; the resulting ``ConvergenceWarning`` is
    silenced by the caller.
    """
    params = dict(
        hidden_layer_sizes=wl.hidden,
        activation=wl.activation,
        solver=wl.solver,
        alpha=wl.alpha,
        max_iter=wl.epochs,
        tol=0.0,
        random_state=MODEL_SEED,
    )
    if wl.solver == "adam":
        params.update(
            batch_size=wl.batch_size,
            learning_rate_init=wl.learning_rate_init,
            shuffle=True,
            n_iter_no_change=wl.epochs + 10,
            early_stopping=False,
        )
    params.update(wl.extra)
    return params
