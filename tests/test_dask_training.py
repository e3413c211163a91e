"""skdeep.dask: one network trained across a Dask cluster.

Every test runs on one module-scoped ``LocalCluster`` of two worker
processes (one thread each). The cluster tests of this file and of
``tests/test_dask.py`` share the xdist group "dask-cluster" (and the suite
runs with ``--dist loadgroup``), so that ``pytest -n 2`` runs them in one
process, one cluster at a time.
"""

import importlib
import os
import pickle
import re
import signal
import subprocess
import sys
import textwrap
import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import skdeep

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
from dask.sizeof import sizeof

from _dask_cluster import workers_restored
from _guide import DEPLOYMENT, first_code_block

from skdeep.dask import MLPClassifier, MLPRegressor
from skdeep.dask._blocks import contiguous_groups

pytestmark = pytest.mark.xdist_group("dask-cluster")

CHUNK = 300


@pytest.fixture(scope="module")
def client():
    from _dask_cluster import two_worker_client

    with two_worker_client() as client:
        # Every worker imports skdeep once, here rather than in the first test.
        client.run(importlib.import_module, "skdeep.dask")
        yield client


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _classification(n_samples=3000, n_test=600, seed=0):
    X, y = make_classification(
        n_samples=n_samples + n_test, n_features=20, n_informative=10, n_classes=3,
        random_state=seed,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=n_test, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _regression(n_samples=2000, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 8))
    y = np.tanh(X @ rng.normal(size=8)) + 0.1 * rng.normal(size=n_samples)
    return X, y


def _blocks(*arrays):
    return [da.from_array(a, chunks=(CHUNK,) + a.shape[1:]) for a in arrays]


def _relative_difference(coefs, reference):
    return max(
        float(np.max(np.abs(a - b)) / np.max(np.abs(b))) for a, b in zip(coefs, reference)
    )


def _worker_pids(client):
    return client.run(os.getpid)


# --------------------------------------------------------------------------
# L-BFGS: the in-memory objective, summed over the workers
# --------------------------------------------------------------------------


# Same objective, summed in another order: the weights agree to rounding,
# which L-BFGS amplifies along its path on a non-convex problem (measured
# on this data with (16,): 1e-14 after 30 iterations, 1e-12 after 60, 3e-9
# after 100, 2e-7 after 150, 3e-3 after 300), so the network runs 60
# iterations; the convex
# model (no hidden layer) runs to convergence, where the minimum is unique.
@pytest.mark.parametrize("hidden, max_iter, weighted", [
    ((16,), 60, False), ((16,), 60, True), ((), 500, True),
])
def test_lbfgs_is_the_in_memory_fit(client, hidden, max_iter, weighted):
    X_train, X_test, y_train, y_test = _classification()
    rng = np.random.RandomState(1)
    weights = rng.uniform(0.2, 3.0, size=len(y_train)) if weighted else None
    params = {"hidden_layer_sizes": hidden, "solver": "lbfgs", "alpha": 1e-3, "max_iter": max_iter,
                  "random_state": 0, "class_weight": "balanced" if weighted else None}

    local = skdeep.MLPClassifier(**params).fit(X_train, y_train, sample_weight=weights)
    X, y = _blocks(X_train, y_train)
    sample_weight = None if weights is None else _blocks(weights)[0]
    distributed_fit = MLPClassifier(**params).fit(X, y, sample_weight=sample_weight)

    # Same objective up to the order of summation: same iterations, same weights.
    assert distributed_fit.n_iter_ == local.n_iter_
    assert _relative_difference(distributed_fit.coefs_, local.coefs_) < 1e-6
    assert _relative_difference(distributed_fit.intercepts_, local.intercepts_) < 1e-6
    assert distributed_fit.loss_ == pytest.approx(local.loss_, rel=1e-9)
    assert distributed_fit.score(X_test, y_test) == local.score(X_test, y_test)
    assert local.score(X_test, y_test) > 0.7
    if not hidden:
        assert local.n_iter_ < max_iter  # converged


# With either objective: sklearn's (the loss averaged over the targets, the
# gradient of their sum) or the exact one (the sum's loss and gradient).
@pytest.mark.parametrize("objective", ["sklearn", "exact"])
def test_lbfgs_regressor_with_two_outputs_is_the_in_memory_fit(client, objective):
    X_train, y_one = _regression()
    y_train = np.column_stack([y_one, -2 * y_one])
    params = {"hidden_layer_sizes": (8,), "solver": "lbfgs", "alpha": 1e-2, "max_iter": 80,
              "random_state": 0, "lbfgs_objective": objective}
    local = skdeep.MLPRegressor(**params).fit(X_train, y_train)
    X, y = _blocks(X_train, y_train)
    model = MLPRegressor(**params).fit(X, y)
    assert model.n_iter_ == local.n_iter_
    assert _relative_difference(model.coefs_, local.coefs_) < 1e-6
    # The same loss definition (n_outputs times apart if they differed), to the
    # rounding that 80 iterations amplify (measured: 3e-9 relative).
    assert model.loss_ == pytest.approx(local.loss_, rel=1e-7)
    assert model.score(X_train, y_train) > 0.9


# --------------------------------------------------------------------------
# Adam / SGD: parameter averaging
# --------------------------------------------------------------------------


def test_adam_reaches_the_accuracy_of_an_in_memory_fit(client):
    X_train, X_test, y_train, y_test = _classification()
    params = {"hidden_layer_sizes": (32,), "max_iter": 80, "learning_rate_init": 3e-3,
                  "random_state": 0}
    local = skdeep.MLPClassifier(**params).fit(X_train, y_train)
    X, y = _blocks(X_train, y_train)
    model = MLPClassifier(**params).fit(X, y)
    gap = abs(model.score(X_test, y_test) - local.score(X_test, y_test))
    # Measured test accuracies (in memory, averaged over 2 workers), random_state
    # 0: 0.918 / 0.913 (gap 0.005); 1: 0.915 / 0.920; 2: 0.923 / 0.927.
    assert gap <= 0.01, (model.score(X_test, y_test), local.score(X_test, y_test))
    assert local.score(X_test, y_test) > 0.8
    assert len(model.loss_curve_) == model.n_iter_ and model.t_ == model.n_iter_ * len(y_train)
    # Every round improved on the start: the averaged model is a trained one.
    assert model.loss_curve_[-1] < 0.5 * model.loss_curve_[0]


def test_sgd_regressor_learns_like_an_in_memory_fit(client):
    X_train, y_train = _regression()
    params = {"hidden_layer_sizes": (16,), "solver": "sgd", "learning_rate_init": 0.02,
                  "max_iter": 40, "random_state": 0}
    local = skdeep.MLPRegressor(**params).fit(X_train, y_train)
    X, y = _blocks(X_train, y_train)
    model = MLPRegressor(**params).fit(X, y)
    # Measured: training R^2 0.873 in memory, 0.862 averaged over 2 workers.
    assert model.score(X_train, y_train) > local.score(X_train, y_train) - 0.03
    assert set(model._optimizer_state) >= {"solver", "velocity"}


def test_adam_is_reproducible_and_early_stops_on_block_splits(client):
    X_train, X_test, y_train, y_test = _classification()
    X, y = _blocks(X_train, y_train)
    params = {"hidden_layer_sizes": (16,), "max_iter": 40, "learning_rate_init": 1e-2,
                  "early_stopping": True, "n_iter_no_change": 2, "tol": 1e-3, "random_state": 3}
    first = MLPClassifier(**params).fit(X, y)
    second = MLPClassifier(**params).fit(X, y)
    for a, b in zip(first.coefs_, second.coefs_):
        np.testing.assert_array_equal(a, b)
    assert first.validation_scores_ == second.validation_scores_
    assert first.n_iter_ < 40  # stopped on the plateau of the held-out score
    assert len(first.validation_scores_) == first.n_iter_
    assert first.best_validation_score_ == max(first.validation_scores_)
    # Each block held out 10% of its rows: 30 per block of 300.
    assert first.t_ == first.n_iter_ * (len(y_train) - 10 * 30)
    assert first.score(X_test, y_test) > 0.8


def test_explicit_validation_set_and_the_loss_as_score(client):
    X_train, y_train = _regression()
    X, y = _blocks(X_train[:1500], y_train[:1500])
    X_val, y_val = _blocks(X_train[1500:], y_train[1500:])
    model = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, scoring="loss",
                         random_state=0).fit(X, y, X_val=X_val, y_val=y_val)
    losses = model.validation_loss_curve_
    assert len(losses) == 5 and model.validation_scores_ == [-v for v in losses]
    # The validation loss is the engine's loss of the whole held-out set.
    logits = model.to_local()._logits(X_train[1500:])
    expected = 0.5 * np.mean((logits[:, 0] - y_train[1500:]) ** 2)
    assert losses[-1] == pytest.approx(expected, rel=1e-9)


def test_validation_r2_from_block_sums_is_sklearns(client):
    X_train, y_one = _regression()
    Y = np.column_stack([y_one, 3 * y_one + 1])  # two outputs: R^2 averaged over them
    X, y = _blocks(X_train[:1500], Y[:1500])
    X_val, y_val = _blocks(X_train[1500:], Y[1500:])
    model = MLPRegressor(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(
        X, y, X_val=X_val, y_val=y_val
    )
    # No early stopping: the last epoch's score is that of the final weights.
    expected = r2_score(Y[1500:], model.predict(X_train[1500:]))
    assert model.validation_scores_[-1] == pytest.approx(expected, rel=1e-9)


def test_blocks_are_grouped_in_runs_balanced_by_rows():
    assert contiguous_groups([100] * 6, 2) == [[0, 1, 2], [3, 4, 5]]
    assert contiguous_groups([500, 100, 100, 100, 100, 100], 2) == [[0], [1, 2, 3, 4, 5]]
    assert contiguous_groups([100], 3) == [[0], [], []]  # more workers than blocks


# --------------------------------------------------------------------------
# The fitted model: predictions, pickling, the local estimator
# --------------------------------------------------------------------------


def test_lazy_predictions_pickling_and_to_local(client):
    X_train, X_test, y_train, _ = _classification(n_samples=1200)
    X, y = _blocks(X_train, y_train)
    model = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=30,
                          random_state=0).fit(X, y)
    X_new = da.from_array(X_test, chunks=(100, -1))

    labels = model.predict(X_new)
    assert isinstance(labels, da.Array) and labels.chunks == ((100,) * 6,)
    np.testing.assert_array_equal(labels.compute(), model.predict(X_test))
    probabilities = model.predict_proba(X_new)
    assert isinstance(probabilities, da.Array) and probabilities.shape == (600, 3)
    np.testing.assert_array_equal(probabilities.compute(), model.predict_proba(X_test))
    logits = model.predict_logits(X_new)
    assert isinstance(logits, da.Array)
    np.testing.assert_array_equal(logits.compute(), model.predict_logits(X_test))

    restored = pickle.loads(pickle.dumps(model))
    assert type(restored) is MLPClassifier
    np.testing.assert_array_equal(restored.predict_proba(X_test), model.predict_proba(X_test))

    local = model.to_local()
    assert type(local) is skdeep.MLPClassifier
    assert local.get_params() == model.get_params()
    for name in ("coefs_", "intercepts_"):
        for a, b in zip(getattr(local, name), getattr(model, name)):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(local.classes_, model.classes_)
    np.testing.assert_array_equal(local.predict_proba(X_test), model.predict_proba(X_test))
    assert not hasattr(model, "partial_fit")


def test_regressor_predicts_lazily_and_fits_a_dask_dataframe(client):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X_train, y_train = _regression(n_samples=1000)
    frame = pd.DataFrame(X_train, columns=[f"x{i}" for i in range(8)])
    X = dd.from_pandas(frame, npartitions=4)
    y = dd.from_pandas(pd.Series(y_train), npartitions=4)
    model = MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=50,
                         random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.feature_names_in_, frame.columns)
    local = skdeep.MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=50,
                                random_state=0).fit(frame, y_train)
    assert _relative_difference(model.coefs_, local.coefs_) < 1e-6
    predictions = model.predict(X)
    assert isinstance(predictions, da.Array)
    np.testing.assert_allclose(predictions.compute(), local.predict(frame), rtol=1e-6)


# --------------------------------------------------------------------------
# What travels: parameters and sums, never rows
# --------------------------------------------------------------------------


def _recording_gather(client, monkeypatch):
    """Record the size in bytes of every result the client gathers."""
    received = []
    real_gather = client.gather

    def gather(futures, *args, **kwargs):
        results = real_gather(futures, *args, **kwargs)
        received.extend(sizeof(result) for result in results)
        return results

    monkeypatch.setattr(client, "gather", gather)
    return received


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_no_result_sent_to_the_client_is_larger_than_the_model(client, monkeypatch, solver):
    # 20,000 rows x 20 features (3.2 MB) made by the workers; a 20-16-1 network.
    X = da.random.RandomState(0).normal(size=(20_000, 20), chunks=(2_000, -1))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    received = _recording_gather(client, monkeypatch)
    model = MLPClassifier(hidden_layer_sizes=(16,), solver=solver, max_iter=3,
                          random_state=0).fit(X, y)
    n_params = sum(W.size + b.size for W, b in zip(model.coefs_, model.intercepts_))
    assert len(received) > 6
    # Adam sends back the parameters and its two moment vectors; L-BFGS a gradient.
    vectors = 3 if solver == "adam" else 1
    assert max(received) <= vectors * n_params * 8 + 2_000, (max(received), n_params)


def _client_peak_during_fit(n_rows, chunk):
    X = da.random.RandomState(0).normal(size=(n_rows, 10), chunks=(chunk, -1))
    y = X[:, :3].sum(axis=1)
    tracemalloc.start()
    MLPRegressor(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=3, random_state=0).fit(X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


@pytest.mark.slow  # about 6 s; the test above checks the same at a small scale
def test_client_memory_does_not_grow_with_the_rows(client):
    small = _client_peak_during_fit(200_000, 20_000)
    large = _client_peak_during_fit(2_000_000, 200_000)
    # 2,000,000 x 10 float64 is 160 MB on the workers; the client's peak
    # stays the same either way (tracemalloc peak measured: 1.49 MB with
    # 200,000 rows, 1.41 MB with 2,000,000).
    assert large < small + 1_000_000, (small, large)
    assert large < 5_000_000


# --------------------------------------------------------------------------
# A worker dies during fit
# --------------------------------------------------------------------------


def test_a_worker_killed_during_fit_does_not_lose_the_fit(client, monkeypatch):
    """The killed worker's blocks are recomputed (from_array's graph) on the
    workers left, its running task is rerun, and L-BFGS carries on with an
    unchanged objective: the fit is the uninterrupted one."""
    X_train, X_test, y_train, y_test = _classification(n_samples=1800)
    params = {"hidden_layer_sizes": (8,), "solver": "lbfgs", "max_iter": 40, "random_state": 0}
    reference = skdeep.MLPClassifier(**params).fit(X_train, y_train)
    X, y = _blocks(X_train, y_train)
    before = _worker_pids(client)
    victim = min(before)
    calls = []
    real_gather = client.gather

    def gather(futures, *args, **kwargs):
        calls.append(len(futures))
        if len(calls) == 6:  # mid-fit: the tasks of an evaluation are in flight
            os.kill(before[victim], signal.SIGKILL)
        return real_gather(futures, *args, **kwargs)

    monkeypatch.setattr(client, "gather", gather)
    with workers_restored(client):
        model = MLPClassifier(**params).fit(X, y)
    monkeypatch.undo()

    assert len(calls) > 10  # the fit went on well past the kill
    assert model.n_iter_ == reference.n_iter_
    assert _relative_difference(model.coefs_, reference.coefs_) < 1e-6
    assert model.score(X_test, y_test) == reference.score(X_test, y_test)
    # The nanny restarted the killed worker: a new process took its place.
    after = _worker_pids(client)
    assert before[victim] not in after.values() and len(after) == 2


# --------------------------------------------------------------------------
# What cannot work says so
# --------------------------------------------------------------------------


def _small_blocks():
    X_train, _, y_train, _ = _classification(n_samples=600, n_test=60)
    return _blocks(X_train, y_train)


def test_unknown_chunk_sizes(client):
    X, y = _small_blocks()
    keep = X[:, 0] > 0
    with pytest.raises(ValueError, match=r"unknown size.*compute_chunk_sizes\(\)"):
        MLPClassifier().fit(X[keep], y[keep])


def test_row_blocks_that_do_not_line_up(client):
    X, y = _small_blocks()
    with pytest.raises(ValueError, match=r"row blocks of X and y do not line up.*rechunk"):
        MLPClassifier().fit(X, y.rechunk(200))
    weights = da.ones(len(y), chunks=250)
    with pytest.raises(ValueError, match="X and sample_weight do not line up"):
        MLPClassifier().fit(X, y, sample_weight=weights)


def test_blocks_split_along_columns(client):
    X, y = _small_blocks()
    with pytest.raises(ValueError, match=re.escape("X.rechunk({1: -1})")):
        MLPClassifier().fit(X.rechunk((CHUNK, 5)), y)


def test_numpy_input_and_unsupported_settings(client):
    X, y = _small_blocks()
    with pytest.raises(TypeError, match="Dask arrays or DataFrames.*from_array"):
        MLPClassifier().fit(X.compute(), y)
    with pytest.raises(ValueError, match="categorical_features must be None"):
        MLPClassifier(categorical_features=[0]).fit(X, y)
    with pytest.raises(ValueError, match="cannot be computed block by block"):
        MLPClassifier(early_stopping=True, scoring="roc_auc_ovr").fit(X, y)
    with pytest.raises(ValueError, match="multilabel"):
        MLPClassifier().fit(X, da.stack([y, y], axis=1).rechunk({1: -1}))


def test_a_cluster_without_workers():
    warnings.simplefilter("ignore", UserWarning)  # a dashboard port already taken
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster, set_as_default=False) as empty, empty.as_current():
        X, y = _small_blocks()
        with pytest.raises(ValueError, match="has no workers"):
            MLPClassifier().fit(X, y)


def test_no_client_says_how_to_start_one():
    # A fresh interpreter, where no client was ever started.
    code = textwrap.dedent("""
        import dask.array as da
        from skdeep.dask import MLPClassifier
        try:
            MLPClassifier().fit(da.zeros((10, 2), chunks=5), da.zeros(10, chunks=5))
        except ValueError as exc:
            print(exc)
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=False)
    assert "there is no distributed client: start one first" in run.stdout, run.stderr


def test_importing_without_distributed_says_what_to_install(monkeypatch):
    for name in [name for name in sys.modules if name.startswith("skdeep.dask")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    with pytest.raises(ImportError, match=re.escape('pip install "skdeep[dask]"')):
        importlib.import_module("skdeep.dask")


# --------------------------------------------------------------------------
# The user guide's example runs
# --------------------------------------------------------------------------


def test_the_user_guide_example_runs(client):
    """The example as printed, its own two-worker cluster included."""
    code = first_code_block("Data-parallel training")
    assert "skdeep.dask" in code and "LocalCluster(" in code
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a dashboard port already taken
        exec(compile(code, str(DEPLOYMENT), "exec"), namespace)  # noqa: S102 - the guide's own code
    assert namespace["model"].n_iter_ == 20
    assert namespace["accuracy"] > 0.9
    assert type(namespace["local_model"]) is skdeep.MLPClassifier
