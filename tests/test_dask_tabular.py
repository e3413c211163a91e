"""skdeep.dask.TabularMLPClassifier / TabularMLPRegressor: raw tables on a cluster.

The cluster tests run on one module-scoped ``LocalCluster`` of two worker
processes and share the xdist group "dask-cluster" with the other Dask
tests (one cluster at a time under ``pytest -n 2``). The tests of the
summaries' arithmetic need no cluster.
"""

import importlib
import os
import pickle
import signal
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

import skdeep
from skdeep._engine import exact_value_gain, frequent_values

dd = pytest.importorskip("dask.dataframe")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
import dask  # noqa: E402

from _dask_cluster import workers_restored  # noqa: E402
from _guide import DEPLOYMENT, first_code_block  # noqa: E402

from skdeep.dask import TabularMLPClassifier, TabularMLPRegressor  # noqa: E402
from skdeep.dask._summaries import (  # noqa: E402
    DistinctValues,
    GroupMoments,
    numpy_median,
    numpy_quantiles,
    value_gain,
)


#: Small networks and few epochs: these tests check plumbing, not accuracy.
FAST = {"hidden_layer_sizes": (16,), "max_iter": 2, "n_networks": 2, "random_state": 0}

#: The fitted input attributes, which must equal the in-memory ones exactly.
INPUT_ATTRIBUTES = [
    "n_features_in_", "feature_names_in_", "is_categorical_", "time_kinds_", "clip_",
    "numeric_center_", "numeric_scale_", "missing_indicator_", "categories_", "one_hot_",
    "frequent_values_", "bin_lower_", "bin_inverse_width_",
]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def mixed_table(n=1200, seed=0):
    """Every kind of column a raw table has, with missing values."""
    rng = np.random.RandomState(seed)
    salary = rng.choice([21_000.0, 35_500.0, 48_250.0, 60_000.0], n) + rng.normal(size=n) * (
        rng.rand(n) < 0.5) * 1_000
    X = pd.DataFrame({
        "size": np.where(rng.rand(n) < 0.1, np.nan, rng.lognormal(size=n)),
        "salary": salary,
        "visits": rng.poisson(3, n).astype(float),
        "city": rng.choice(["Lyon", "Nice", "Paris", "Brest", "Lille", "Metz"], n)
                .astype(object),
        "grade": pd.Categorical(rng.choice(list("abcdefghijkl"), n)),
        "member": rng.rand(n) > 0.4,
        "code": rng.randint(0, 5, n).astype(object),  # numbers stored as objects
        "seen": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.randint(0, 400, n), unit="D"),
        "flat": np.full(n, 7.0),
    })
    X.loc[rng.rand(n) < 0.08, "city"] = None
    X.loc[rng.rand(n) < 0.05, "seen"] = pd.NaT
    logit = (np.nan_to_num(X["size"].to_numpy()) - 1.5 + (X["city"] == "Paris") * 1.5
             + (salary == 35_500.0) * 4.0 - (X["grade"] == "c") * 1.0)
    y = np.where(logit + rng.normal(scale=0.5, size=n) > 0, "yes", "no")
    return X, pd.Series(y, name="target")


@pytest.fixture(scope="module")
def client():
    from _dask_cluster import two_worker_client

    with two_worker_client() as client:
        client.run(importlib.import_module, "skdeep.dask")
        yield client


def _frames(X, y, npartitions=4):
    return dd.from_pandas(X, npartitions=npartitions), dd.from_pandas(y, npartitions=npartitions)


def _assert_same_inputs(distributed_model, local_model):
    for name in INPUT_ATTRIBUTES:
        here, there = distributed_model.__dict__.get(name), local_model.__dict__.get(name)
        assert (here is None) == (there is None), name
        if isinstance(there, list):
            assert len(here) == len(there), name
            for a, b in zip(here, there):
                np.testing.assert_array_equal(a, b, err_msg=name)
        elif there is not None:
            np.testing.assert_array_equal(here, there, err_msg=name)


# --------------------------------------------------------------------------
# The summaries' arithmetic (no cluster)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 10, 101, 1000])
def test_quantiles_from_order_statistics_are_numpys_bit_for_bit(n):
    rng = np.random.RandomState(n)
    for x in (rng.normal(size=n), rng.randint(0, 4, n).astype(float),
              rng.lognormal(size=n) * 1e300, np.round(rng.normal(size=n), 1)):
        table = DistinctValues.merged([DistinctValues.of(part) for part in np.array_split(x, 3)
                                       if len(part)])
        levels = np.linspace(0, 1, 33)
        np.testing.assert_array_equal(numpy_quantiles(table.at_ranks, n, levels),
                                      np.quantile(x, levels))
        np.testing.assert_array_equal(numpy_quantiles(table.at_ranks, n, [0.25, 0.75]),
                                      np.nanquantile(x, [0.25, 0.75]))
        assert numpy_median(table.at_ranks, n) == np.nanmedian(x)


def test_value_tables_merge_and_cut_into_ranges():
    rng = np.random.RandomState(0)
    x = np.where(rng.rand(500) < 0.1, np.nan, rng.randint(0, 50, 500).astype(float))
    parts = [DistinctValues.of(part) for part in np.array_split(x, 4)]
    whole = DistinctValues.of(x)
    merged = DistinctValues.merged(parts)
    np.testing.assert_array_equal(merged.values, whole.values)
    np.testing.assert_array_equal(merged.counts, whole.counts)
    low, high = DistinctValues.merged([p.between(-np.inf, 20) for p in parts]), \
        DistinctValues.merged([p.between(20, np.inf) for p in parts])
    assert low.n + high.n == whole.n == np.isfinite(x).sum()
    assert low.values.max() < 20 <= high.values.min()
    np.testing.assert_array_equal(whole.frequent(12), frequent_values(x, 12, 0))


def test_group_moments_merge_as_the_whole():
    rng = np.random.RandomState(1)
    groups, Y = rng.randint(0, 5, 300), rng.normal(size=(300, 2))
    whole = GroupMoments.of(groups, Y, 6)
    halves = GroupMoments.of(groups[:100], Y[:100], 6).merged(
        GroupMoments.of(groups[100:], Y[100:], 6))
    np.testing.assert_allclose(halves.means, whole.means, rtol=1e-12)
    np.testing.assert_allclose(halves.m2, whole.m2, rtol=1e-12)
    total = whole.total()
    np.testing.assert_allclose(total.means[0], Y.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(total.m2[0], Y.var(axis=0) * 300, rtol=1e-12)


@pytest.mark.parametrize("coded", [True, False])
def test_value_gain_from_moments_is_the_in_memory_gain(coded):
    rng = np.random.RandomState(2)
    x = rng.choice([10.0, 20.0, 30.0, 45.0], 800) if coded else np.round(rng.normal(size=800), 1)
    x[rng.rand(800) < 0.05] = np.nan
    target = (x == 20.0) if coded else np.nan_to_num(x) > 0.3
    Y = np.eye(2)[(target ^ (rng.rand(800) < 0.1)).astype(int)]
    values = frequent_values(x, 4, min_distinct=0)
    present = ~np.isnan(x)
    edges = np.unique(np.quantile(x[present], np.linspace(0, 1, 9)[1:-1]))
    codes = np.searchsorted(values, x[present])
    is_value = values[codes.clip(0, len(values) - 1)] == x[present]
    groups = np.where(is_value, len(edges) + 1 + codes, np.searchsorted(edges, x[present]))
    moments = GroupMoments.of(groups, Y[present], len(edges) + 1 + len(values))
    gain = value_gain(moments, len(edges) + 1, np.searchsorted(edges, values))
    assert gain == pytest.approx(exact_value_gain(x, Y, values, 8), rel=1e-9, abs=1e-12)


# --------------------------------------------------------------------------
# Learning the inputs from the partitions' summaries
# --------------------------------------------------------------------------


@pytest.mark.parametrize("params, salary_values", [
    ({}, 0),  # the exact salaries predict the target barely better than 32 bins
    ({"piecewise_bins": 8}, 4),  # ... clearly better than 8
    ({"piecewise_bins": 8, "value_embedding_min_gain": None, "max_one_hot": 4}, 4),
    ({"piecewise_bins": 0, "value_embedding_min_count": 0, "clip": None}, 0),
])
def test_inputs_are_learned_as_in_memory(client, params, salary_values):
    X, y = _frames(*mixed_table(), npartitions=5)
    settings = {**FAST, **params}
    model = TabularMLPClassifier(**settings).fit(X, y)
    # The same table in memory, as Dask gives it (strings as Arrow strings).
    local = skdeep.TabularMLPClassifier(**settings).fit(X.compute(), y.compute())
    _assert_same_inputs(model, local)
    np.testing.assert_array_equal(model.classes_, local.classes_)
    # The test data exercises what it should.
    assert model.is_categorical_.tolist() == [False, False, False, True, True, False, True,
                                              False, False]
    assert len(model.frequent_values_[1]) == salary_values  # the salaries' round values


def test_object_columns_are_numeric_unless_a_partition_holds_other_values(client):
    X, y = mixed_table(n=400)
    X["mixed"] = pd.Series([i % 7 if i < 300 else "other" for i in range(400)], dtype=object)
    with dask.config.set({"dataframe.convert-string": False}):
        X_dask, y_dask = _frames(X, y, npartitions=4)
    assert X_dask.dtypes["code"] == np.dtype("O") and X_dask.dtypes["mixed"] == np.dtype("O")
    model = TabularMLPClassifier(**FAST).fit(X_dask, y_dask)
    local = skdeep.TabularMLPClassifier(**FAST).fit(X, y)
    _assert_same_inputs(model, local)
    # Numbers only: numeric; strings in the last partition only: categorical.
    assert not model.is_categorical_[6] and model.is_categorical_[9]
    assert len(model.categories_[-1]) == 8


def test_regressor_inputs_and_target_as_in_memory(client):
    X, y = mixed_table(seed=3)
    target = pd.DataFrame({"a": X["visits"] * 3.0 + (y == "yes"), "b": np.log1p(X["salary"])})
    X, target = _frames(X, target, npartitions=3)
    model = TabularMLPRegressor(**FAST).fit(X, target)
    local = skdeep.TabularMLPRegressor(**FAST).fit(X.compute(), target.compute())
    _assert_same_inputs(model, local)
    for name in ("target_mean_", "target_scale_"):
        np.testing.assert_allclose(getattr(model, name), getattr(local, name), rtol=1e-12)
    for name in ("target_min_", "target_max_"):
        np.testing.assert_array_equal(getattr(model, name), getattr(local, name))
    assert model.predict(X.head(5)).shape == (5, 2)
    assert model.predict(X).compute().shape == (len(target), 2)


# --------------------------------------------------------------------------
# Training, predictions, conversion
# --------------------------------------------------------------------------


@pytest.mark.parametrize("sync", ["step", "epoch"])
def test_fit_predicts_lazily_as_to_local_does(client, sync):
    X, y = _frames(*mixed_table(n=900), npartitions=4)
    model = TabularMLPClassifier(**FAST, sync=sync).fit(X, y)
    local = model.to_local()
    assert type(local) is skdeep.TabularMLPClassifier
    assert all(type(member) is skdeep.TabularMLPClassifier for member in local.estimators_)
    assert "sync" not in local.get_params()
    labels, proba = model.predict(X), model.predict_proba(X)
    assert isinstance(labels, da.Array) and isinstance(proba, da.Array)
    X_memory = X.compute()
    np.testing.assert_array_equal(labels.compute(), local.predict(X_memory))
    # Partition by partition, the same numbers; on the whole frame, BLAS may
    # round a row at the end of a partition differently (1e-16).
    by_partition = np.concatenate([local.predict_proba(part) for part in
                                   dask.compute(*X.to_delayed())])
    np.testing.assert_array_equal(proba.compute(), by_partition)
    np.testing.assert_allclose(proba.compute(), local.predict_proba(X_memory), rtol=1e-12)
    np.testing.assert_array_equal(model.predict(X_memory), local.predict(X_memory))
    assert model.score(X, y) == pytest.approx(local.score(X_memory, y.compute()), abs=1e-12)
    assert 0.6 < model.score(X, y) <= 1.0
    # Every member trained its epochs and chose its best one on its own rows.
    assert list(model.n_iter_) == [2, 2]
    assert all(len(m.validation_scores_) == 2 for m in model.estimators_)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X_memory), local.predict(X_memory))


def test_fit_is_reproducible_and_depends_on_the_seed(client):
    X, y = _frames(*mixed_table(n=600), npartitions=3)
    first = TabularMLPClassifier(**FAST).fit(X, y)
    again = TabularMLPClassifier(**FAST).fit(X, y)
    other = TabularMLPClassifier(**{**FAST, "random_state": 1}).fit(X, y)
    for a, b in zip(first.estimators_, again.estimators_):
        for W, V in zip(a.coefs_, b.coefs_):
            np.testing.assert_array_equal(W, V)
    assert not np.array_equal(first.estimators_[0].coefs_[0], other.estimators_[0].coefs_[0])


def test_a_category_seen_only_at_predict_time_is_unknown(client):
    X, y = _frames(*mixed_table(n=600), npartitions=3)
    model = TabularMLPClassifier(**FAST).fit(X, y)
    new = X.head(50)
    unseen, missing = new.copy(), new.copy()
    unseen["city"] = "Quimper"  # not a training city
    missing["city"] = None
    new_dask = dd.from_pandas(unseen, npartitions=2)
    np.testing.assert_allclose(model.predict_proba(new_dask).compute(),
                               model.predict_proba(missing), rtol=1e-12)


def test_regressor_with_weights_validation_data_and_empty_partitions(client):
    X, y = mixed_table(n=800, seed=4)
    target = X["visits"] * 2.0 + np.nan_to_num(X["size"].to_numpy())
    X_dask, y_dask = _frames(X, target, npartitions=4)
    # An empty partition (as filtering leaves) is skipped.
    keep = X_dask["visits"] >= 0
    X_dask, y_dask = X_dask[keep], y_dask[keep]
    weights = dd.from_pandas(pd.Series(np.linspace(0.5, 2.0, 800)), npartitions=4)
    X_val, y_val = _frames(*mixed_table(n=200, seed=5), npartitions=2)
    y_val = dd.from_pandas(X_val["visits"].compute() * 2.0 + 1.0, npartitions=2)
    model = TabularMLPRegressor(**{**FAST, "max_iter": 3}).fit(
        X_dask, y_dask, sample_weight=weights, X_val=X_val, y_val=y_val)
    assert all(len(m.validation_scores_) == 3 for m in model.estimators_)
    assert model.score(X_dask, y_dask) > 0.3
    empty = dd.from_pandas(X.head(0), npartitions=1)
    assert model.predict(empty).compute().shape == (0,)


def test_balanced_class_weights_count_every_partition(client):
    X, y = mixed_table(n=600, seed=6)
    y = pd.Series(np.where(np.arange(600) < 500, "common", "rare"), name="target")
    model = TabularMLPClassifier(**FAST, class_weight="balanced").fit(*_frames(X, y, 3))
    assert model.class_weight == "balanced"  # the parameter is left as it was
    assert set(model.classes_) == {"common", "rare"}


# --------------------------------------------------------------------------
# What cannot work says so
# --------------------------------------------------------------------------


def test_a_target_with_missing_values(client):
    X, y = mixed_table(n=300)
    y = y.where(np.arange(300) != 250)  # NaN in the last partition
    with pytest.raises(ValueError, match=r"In partition 2 of y: .*missing values"):
        TabularMLPClassifier(**FAST).fit(*_frames(X, y, 3))
    target = X["visits"].where(np.arange(300) != 10)
    with pytest.raises(ValueError, match=r"In partition 0 of y: .*NaN"):
        TabularMLPRegressor(**FAST).fit(*_frames(X, target, 3))


def test_a_column_whose_dtype_differs_between_partitions(client):
    X, y = mixed_table(n=300)
    parts = [X.iloc[:150], X.iloc[150:].astype({"visits": "int64"})]
    frame = dd.from_delayed([dask.delayed(p) for p in parts], meta=X.iloc[:0], verify_meta=False)
    with pytest.raises(ValueError, match=r"In partition 1 of X: Column 'visits' has dtype int64 "
                                         r"in this partition but float64 in the collection's "
                                         r"metadata.*X.astype\(\{'visits': 'float64'\}\)"):
        TabularMLPClassifier(**FAST).fit(frame, dd.from_pandas(y, npartitions=2))


def test_partitions_that_do_not_line_up(client):
    X, y = mixed_table(n=300)
    X_dask = dd.from_pandas(X, npartitions=3)
    with pytest.raises(ValueError, match="X has 3 partitions but y has 2"):
        TabularMLPClassifier(**FAST).fit(X_dask, dd.from_pandas(y, npartitions=2))
    shifted = dd.from_pandas(y.set_axis(y.index + 1), npartitions=3)
    with pytest.raises(ValueError, match=r"divisions of X and y differ.*repartition"):
        TabularMLPClassifier(**FAST).fit(X_dask, shifted)
    unknown = X_dask.clear_divisions()
    other_lengths = dd.from_delayed([dask.delayed(y.iloc[:80]), dask.delayed(y.iloc[80:190]),
                                     dask.delayed(y.iloc[190:])], meta=y.iloc[:0])
    with pytest.raises(ValueError, match=r"In partition \d of y: it has \d+ rows but "
                                         r"partition \d of X has"):
        TabularMLPClassifier(**FAST).fit(unknown, other_lengths)
    labels = da.from_array(y.to_numpy(), chunks=100)
    labels_uneven = da.from_array(y.to_numpy(), chunks=(90, 110, 100))
    assert TabularMLPClassifier(**FAST).fit(X_dask, labels).n_features_in_ == X.shape[1]
    with pytest.raises(ValueError, match=r"rows but partition \d of X has 100"):
        TabularMLPClassifier(**FAST).fit(X_dask, labels_uneven)


def test_settings_and_inputs_that_cannot_work(client):
    X, y = mixed_table(n=300)
    X_dask, y_dask = _frames(X, y, 3)
    with pytest.raises(TypeError, match="train on Dask DataFrames.*dd.from_pandas"):
        TabularMLPClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="cannot be computed partition by partition"):
        TabularMLPClassifier(**FAST, scoring="roc_auc").fit(X_dask, y_dask)
    with pytest.raises(ValueError, match="sync"):
        TabularMLPClassifier(**FAST, sync="sometimes").fit(X_dask, y_dask)
    tiny = dd.from_pandas(X.head(40), npartitions=20)
    with pytest.raises(ValueError, match="holds out validation_fraction=0.2 of each partition"):
        TabularMLPClassifier(**FAST).fit(tiny, dd.from_pandas(y.head(40), npartitions=20))


def test_no_client_says_how_to_start_one():
    import subprocess
    import sys

    code = textwrap.dedent("""
        import pandas as pd, dask.dataframe as dd
        from skdeep.dask import TabularMLPRegressor
        X = dd.from_pandas(pd.DataFrame({"a": [1.0, 2.0, 3.0]}), npartitions=1)
        try:
            TabularMLPRegressor().fit(X, X["a"])
        except ValueError as exc:
            print(exc)
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=False)
    assert "there is no distributed client: start one first" in run.stdout, run.stderr


# --------------------------------------------------------------------------
# A worker dies during fit
# --------------------------------------------------------------------------


def _spy(monkeypatch, owner, name, calls, note, action=None):
    """Wrap ``owner.name``: each call appends ``note(*args, **kwargs)`` to ``calls``,
    then runs ``action(len(calls))`` (if given) and the real method."""
    real = getattr(owner, name)

    def spied(*args, **kwargs):
        calls.append(note(*args, **kwargs))
        if action is not None:
            action(len(calls))
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, spied)


def _counting_gather(client, monkeypatch, calls, action=None):
    _spy(monkeypatch, client, "gather", calls, lambda *args, **kwargs: 1, action)


def _recording_direct(client, monkeypatch, directs):
    _spy(monkeypatch, client, "gather", directs, lambda *args, **kwargs: kwargs.get("direct"))


def _counting_steps(monkeypatch, calls, action=None):
    """Record, at each synchronous step, whether the client still calls its actors."""
    from skdeep.dask._members import MemberSteps

    _spy(monkeypatch, MemberSteps, "_worker_sums", calls,
         lambda steps, *args: steps.actors is not None, action)


def test_results_come_straight_from_local_workers_unless_the_client_says_not(
        client, monkeypatch):
    """A LocalCluster's workers are on this machine: gathers skip the scheduler's hop, and
    the steps are calls to actors on the workers. A client made with
    ``direct_to_workers=False`` keeps dask's way (tasks), with the same model."""
    X, y = _frames(*mixed_table(n=600, seed=3), npartitions=4)
    directs, actor_steps = [], []
    _recording_direct(client, monkeypatch, directs)
    _counting_steps(monkeypatch, actor_steps)
    direct = TabularMLPClassifier(**{**FAST, "max_iter": 2}).fit(X, y)
    assert directs and all(d is True for d in directs)
    assert actor_steps and all(actor_steps)
    directs.clear()
    actor_steps.clear()
    monkeypatch.setattr(client, "direct_to_workers", False)
    through_scheduler = TabularMLPClassifier(**{**FAST, "max_iter": 2}).fit(X, y)
    monkeypatch.undo()
    assert directs and all(d is False for d in directs)
    assert actor_steps and not any(actor_steps)
    for ours, theirs in zip(direct.estimators_, through_scheduler.estimators_):
        for W, V in zip(ours.coefs_, theirs.coefs_):
            np.testing.assert_array_equal(W, V)


def test_fits_ask_the_scheduler_for_the_workers(client, monkeypatch):
    """``Client.scheduler_info()`` returns the client's cached identity, which the client's
    own refresh (every 2 s) replaces with one that lists no workers: a fit that read it
    could find an empty cluster (a CI run failed so). Fits ask the scheduler instead."""
    monkeypatch.setattr(client, "scheduler_info", lambda *args, **kwargs: {"workers": {}})
    X, y = _frames(*mixed_table(n=300, seed=4), npartitions=2)
    model = TabularMLPClassifier(**FAST).fit(X, y)
    assert model.n_features_in_ == X.shape[1]


@pytest.mark.parametrize(("address", "setting", "expected"), [
    ("tcp://127.0.0.1:8786", None, True),
    ("tcp://localhost:8786", None, True),
    ("inproc://192.0.2.2/1/1", None, True),
    ("tcp://10.1.2.3:8786", None, False),
    ("tls://scheduler.example.org:8786", None, False),
    ("tcp://10.1.2.3:8786", True, True),
    ("tcp://127.0.0.1:8786", False, False),
])
def test_direct_gathers_only_where_the_workers_are_reachable(address, setting, expected):
    from types import SimpleNamespace

    from skdeep.dask._cluster import reaches_workers

    client = SimpleNamespace(direct_to_workers=setting,
                             scheduler=SimpleNamespace(address=address))
    assert reaches_workers(client) is expected


@pytest.mark.parametrize("sync", ["step", "epoch"])
def test_a_worker_killed_during_fit_does_not_change_the_model(client, monkeypatch, sync):
    """Killed during the steps (``sync="step"``: the actors' worker is lost, the steps go
    on as tasks) or during the rounds (``sync="epoch"``): the model is the same."""
    X, y = _frames(*mixed_table(n=1500, seed=7), npartitions=4)
    params = {**FAST, "max_iter": 3, "sync": sync}

    def count(calls, action=None):
        if sync == "step":
            _counting_steps(monkeypatch, calls, action)
        else:
            _counting_gather(client, monkeypatch, calls, action)

    calls = []
    count(calls)
    reference = TabularMLPClassifier(**params).fit(X, y)
    monkeypatch.undo()
    pids = client.run(os.getpid)
    victim = max(pids)
    kill_at = len(calls) * 3 // 4  # training has started: the groups are on the workers

    def kill(n_calls):
        if n_calls == kill_at:
            os.kill(pids[victim], signal.SIGKILL)

    calls.clear()
    count(calls, kill)
    with workers_restored(client):
        model = TabularMLPClassifier(**params).fit(X, y)
    monkeypatch.undo()
    assert len(calls) > kill_at  # the fit went on past the kill
    if sync == "step":  # actors until the kill, tasks after it
        assert all(calls[:kill_at - 1]) and not calls[-1]
    for ours, theirs in zip(model.estimators_, reference.estimators_):
        for W, V in zip(ours.coefs_, theirs.coefs_):
            np.testing.assert_array_equal(W, V)
    assert pids[victim] not in client.run(os.getpid).values()


def test_what_a_fit_shares_outlives_every_worker_holding_it(client):
    """The recipe every task reads is a task's result: when every worker holding it dies it
    is computed again. A scattered value was lost for good, and with it the tasks needing
    it, once dask's memory manager had left one worker holding it."""
    from skdeep.dask._partitions import Kept

    shared = Kept(client, [], [], []).share(np.arange(5.0))
    distributed.wait(shared)
    holders = list(client.who_has([shared])[shared.key])
    with workers_restored(client):
        for pid in client.run(os.getpid, workers=holders).values():
            os.kill(pid, signal.SIGKILL)
        assert client.submit(np.sum, shared, pure=False).result(timeout=60) == 10.0


def test_weights_in_memory_dask_arrays_and_weighted_scores(client):
    X, y = mixed_table(n=600, seed=8)
    X_dask, y_dask = _frames(X, y, 3)
    weights = np.where(np.arange(600) % 3 == 0, 2.0, 0.5)
    model = TabularMLPClassifier(**FAST).fit(X_dask, y_dask, sample_weight=weights)
    same = TabularMLPClassifier(**FAST).fit(
        X_dask, y_dask, sample_weight=dd.from_pandas(pd.Series(weights), npartitions=3))
    np.testing.assert_array_equal(model.estimators_[0].coefs_[0], same.estimators_[0].coefs_[0])
    weights_dask = dd.from_pandas(pd.Series(weights), npartitions=3)
    X_memory, y_memory = X_dask.compute(), y_dask.compute()
    assert model.score(X_dask, y_dask, sample_weight=weights_dask) == pytest.approx(
        model.to_local().score(X_memory, y_memory, sample_weight=weights), abs=1e-12)
    with pytest.raises(ValueError, match=r"sample_weight has shape \(599,\) but X has 600 rows"):
        TabularMLPClassifier(**FAST).fit(X_dask, y_dask, sample_weight=weights[:-1])
    # A Dask array of numbers is a table of unnamed columns.
    numbers = da.from_array(X[["size", "salary", "visits"]].to_numpy(), chunks=(200, 3))
    labels = da.from_array(y.to_numpy(), chunks=200)
    model = TabularMLPClassifier(**FAST).fit(numbers, labels)
    assert model.n_features_in_ == 3 and not hasattr(model, "feature_names_in_")
    np.testing.assert_array_equal(model.predict(numbers).compute(),
                                  model.to_local().predict(numbers.compute()))


def test_validation_data_that_cannot_work(client):
    X, y = mixed_table(n=400, seed=9)
    X_dask, y_dask = _frames(X, y, 2)
    X_val, y_val = _frames(X.head(100), y.head(100).where(np.arange(100) > 0, "maybe"), 2)
    with pytest.raises(ValueError, match="y_val has classes not seen in y"):
        TabularMLPClassifier(**FAST).fit(X_dask, y_dask, X_val=X_val, y_val=y_val)
    with pytest.raises(ValueError, match="X_val has the columns"):
        TabularMLPClassifier(**FAST).fit(X_dask, y_dask, X_val=X_val[["size"]], y_val=y_val)
    with pytest.raises(TypeError, match="sample_weight_val must be a Dask"):
        TabularMLPClassifier(**FAST).fit(X_dask, y_dask, X_val=X_val, y_val=y_dask.head(100),
                                         sample_weight_val=np.ones(100))
    with pytest.raises(ValueError, match="X_val and y_val must be passed together"):
        TabularMLPClassifier(**FAST).fit(X_dask, y_dask, X_val=X_val)


# --------------------------------------------------------------------------
# The user guide's example runs
# --------------------------------------------------------------------------


def test_the_user_guide_example_runs(client):
    """The example as printed, its own two-worker cluster included."""
    code = first_code_block("Data-parallel training of tables")
    assert "TabularMLPClassifier" in code and "LocalCluster(" in code
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a dashboard port already taken
        exec(compile(code, str(DEPLOYMENT), "exec"), namespace)  # noqa: S102 - the guide's own code
    assert list(namespace["model"].n_iter_) == [8, 8, 8]
    assert namespace["accuracy"] > 0.9
    assert type(namespace["local_model"]) is skdeep.TabularMLPClassifier
