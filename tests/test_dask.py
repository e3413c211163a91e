"""Scaling out with Dask.

Two recipes, documented in the user guide (``deployment.rst``):

* model selection on a cluster: ``GridSearchCV`` under
  ``joblib.parallel_backend("dask")`` sends each (candidate, fold) fit to a
  Dask worker and finds what the local run finds;
* out-of-core training: ``dask_ml.wrappers.Incremental`` feeds a chunked
  ``dask.array`` block by block to ``partial_fit``; one ``fit`` (then one
  ``partial_fit`` per further epoch) is one pass over the blocks. With
  ``batch_size`` equal to the chunk size it makes the same number of updates
  of the same size as an in-memory ``fit`` and reaches its accuracy. The same
  recipe without dask-ml is a loop over ``X.blocks``.

Only one test starts a cluster (two worker processes); it shares the xdist
group "dask-cluster" with ``tests/test_dask_training.py`` (the suite runs with
``--dist loadgroup``), so that ``pytest -n 2`` never runs two clusters at once. The tests need dask[array]
and distributed; those of ``Incremental`` also need dask-ml (skipped without
it).
"""

import time
import warnings

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import StandardScaler

from skdeep import MLPClassifier, MLPRegressor

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
try:  # dask-ml is only needed by the Incremental tests
    import dask_ml.wrappers as dask_ml_wrappers
except ImportError:
    dask_ml_wrappers = None

needs_dask_ml = pytest.mark.skipif(dask_ml_wrappers is None, reason="dask-ml is not installed")

N_CHUNKS = 20
EPOCHS = 10
# Largest accepted gap between the test accuracies of the out-of-core and
# the in-memory fit (1,000 test rows: 0.02 is 20 rows). Measured gaps on
# three seeds: 0.000 to 0.002.
ACCURACY_TOLERANCE = 0.02


def _classification(n_samples=3000, n_test=1000, seed=0):
    X, y = make_classification(
        n_samples=n_samples, n_features=20, n_informative=10, n_classes=3,
        random_state=seed,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=n_test, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _incremental_fit(estimator, X, y, epochs, classes, **incremental_params):
    """``epochs`` passes of dask-ml's Incremental over the blocks of X, y.

    ``classes`` (a NumPy array: every class, known before training) goes to
    the first ``partial_fit`` call through ``fit``'s keyword arguments.
    """
    incremental = dask_ml_wrappers.Incremental(estimator, **incremental_params)
    incremental.fit(X, y, classes=classes)  # pass 1 (on a fresh clone)
    for _ in range(epochs - 1):
        incremental.partial_fit(X, y)  # passes 2, 3, ... continue estimator_
    return incremental


# --------------------------------------------------------------------------
# out-of-core training
# --------------------------------------------------------------------------


@needs_dask_ml
@pytest.mark.parametrize("seed", [0, 1])
def test_incremental_reaches_the_accuracy_of_an_in_memory_fit(seed):
    X_train, X_test, y_train, y_test = _classification(seed=seed)
    chunk = len(X_train) // N_CHUNKS
    params = dict(hidden_layer_sizes=(32,), batch_size=chunk, random_state=seed)

    # In memory: EPOCHS full epochs (no early stop), mini-batches of `chunk`.
    in_memory = MLPClassifier(max_iter=EPOCHS, tol=0, n_iter_no_change=EPOCHS + 1, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        in_memory.fit(X_train, y_train)

    # Out of core: the same number of epochs over 20 blocks, one mini-batch each.
    X = da.from_array(X_train, chunks=(chunk, -1))
    y = da.from_array(y_train, chunks=chunk)
    assert X.numblocks[0] == N_CHUNKS
    with dask.config.set(scheduler="synchronous"):
        incremental = _incremental_fit(
            MLPClassifier(**params), X, y, EPOCHS, np.unique(y_train),
            shuffle_blocks=True, random_state=seed,
        )
    model = incremental.estimator_
    assert model.t_ == in_memory.t_ == EPOCHS * len(X_train)

    gap = abs(model.score(X_test, y_test) - in_memory.score(X_test, y_test))
    assert gap <= ACCURACY_TOLERANCE
    assert in_memory.score(X_test, y_test) > 0.6  # both learned something


def test_loop_over_blocks_equals_partial_fit_in_memory():
    """The recipe without dask-ml: partial_fit on each computed block, which
    is exactly partial_fit on the same slices of an in-memory array."""
    X_train, _, y_train, _ = _classification(n_samples=1000, n_test=200)
    chunk = 100
    X = da.from_array(X_train, chunks=(chunk, -1))
    y = da.from_array(y_train, chunks=chunk)
    classes = np.unique(y_train)
    params = dict(hidden_layer_sizes=(16,), batch_size=50, random_state=0)

    out_of_core = MLPClassifier(**params)
    with dask.config.set(scheduler="synchronous"):
        for _ in range(3):
            for X_block, y_block in zip(X.to_delayed().ravel(), y.to_delayed().ravel()):
                X_block, y_block = dask.compute(X_block, y_block)
                out_of_core.partial_fit(X_block, y_block, classes=classes)

    in_memory = MLPClassifier(**params)
    for _ in range(3):
        for start in range(0, len(X_train), chunk):
            rows = slice(start, start + chunk)
            in_memory.partial_fit(X_train[rows], y_train[rows], classes=classes)

    for a, b in zip(out_of_core.coefs_, in_memory.coefs_, strict=True):
        assert np.array_equal(a, b)


@needs_dask_ml
def test_incremental_regressor():
    rng = np.random.RandomState(0)
    X_train = rng.normal(size=(1200, 8))
    y_train = X_train @ rng.normal(size=8) + 0.1 * rng.normal(size=1200)
    X = da.from_array(X_train, chunks=(100, -1))
    y = da.from_array(y_train, chunks=100)
    with dask.config.set(scheduler="synchronous"):
        incremental = dask_ml_wrappers.Incremental(
            MLPRegressor(hidden_layer_sizes=(16,), batch_size=100, learning_rate_init=0.01,
                         random_state=0),
            random_state=0,
        )
        incremental.fit(X, y)
        for _ in range(19):
            incremental.partial_fit(X, y)
    assert incremental.estimator_.score(X_train, y_train) > 0.9
    # predict on a dask array returns a lazy dask array, block by block.
    prediction = incremental.predict(X)
    assert isinstance(prediction, da.Array)
    np.testing.assert_allclose(prediction.compute(), incremental.estimator_.predict(X_train))


# --------------------------------------------------------------------------
# model selection on a cluster (the one test that starts worker processes)
# --------------------------------------------------------------------------


@pytest.mark.xdist_group("dask-cluster")
def test_grid_search_and_incremental_on_a_local_cluster():
    X, y = load_digits(return_X_y=True)
    X, y = X[:450] / 16.0, y[:450]
    grid = {"hidden_layer_sizes": [(8,), (32,)], "alpha": [1e-4, 1.0]}
    search_params = dict(cv=3)
    estimator = MLPClassifier(solver="lbfgs", max_iter=40, random_state=0)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        local = GridSearchCV(estimator, grid, **search_params).fit(X, y)

    X_train, X_test, y_train, y_test = _classification(n_samples=1200, n_test=200)
    X_blocks = da.from_array(X_train, chunks=(100, -1))
    y_blocks = da.from_array(y_train, chunks=100)
    incremental_params = dict(hidden_layer_sizes=(16,), batch_size=100, random_state=0)
    reference = on_cluster = None
    if dask_ml_wrappers is not None:
        with dask.config.set(scheduler="synchronous"):
            reference = _incremental_fit(
                MLPClassifier(**incremental_params), X_blocks, y_blocks, 3, np.unique(y_train),
                random_state=0,
            ).estimator_

    start = time.perf_counter()
    from _dask_cluster import two_worker_client

    with two_worker_client() as client:
        assert len(client.nthreads()) == 2
        with joblib.parallel_backend("dask"), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            remote = GridSearchCV(estimator, grid, n_jobs=-1, **search_params).fit(X, y)
        if dask_ml_wrappers is not None:
            # Incremental runs its partial_fit tasks on the cluster's
            # workers: the estimator travels between them pickled.
            on_cluster = _incremental_fit(
                MLPClassifier(**incremental_params), X_blocks, y_blocks, 3,
                np.unique(y_train), random_state=0,
            ).estimator_
    elapsed = time.perf_counter() - start

    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    if dask_ml_wrappers is not None:
        # Same blocks, same order, same state carried between them: same model.
        for a, b in zip(on_cluster.coefs_, reference.coefs_, strict=True):
            np.testing.assert_array_equal(a, b)
        assert on_cluster.score(X_test, y_test) == reference.score(X_test, y_test)
    assert elapsed < 120, f"the cluster part took {elapsed:.0f} s"
