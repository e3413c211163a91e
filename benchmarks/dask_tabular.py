#!/usr/bin/env python
"""skdeep.dask's tabular estimators against the in-memory ones, on a 2-worker cluster.

Subcommands (each on ``LocalCluster``s of single-threaded worker processes):

``accuracy``
    Every table of the tune half of ``benchmarks/tabular_datasets.py``: the
    same 80/20 split (stratified for classification, one per seed), the
    training part as a Dask DataFrame of ``--partitions`` partitions, the
    default ``TabularMLP*`` in memory and on the cluster with the same
    ``random_state``; both scored on the held-out 20 %. Results are
    appended to a JSONL file, one line per table, seed and model (a rerun
    skips what is there), and summarised by ``report``.
``memory``
    A generated table of ``--rows`` rows (numbers with NaN, strings,
    categories, booleans), built by the workers and never on the client,
    trained for ``--epochs`` epochs: the client's peak RSS growth (sampled
    every 20 ms), each worker's peak RSS, the time per epoch.
``speedup``
    A compute-bound fit (``--speedup-rows`` generated rows kept on the
    workers before the clock starts, batches of ``--speedup-batch``) on 1
    worker and on 2 workers: wall time and each worker's CPU seconds.
``killed``
    A fit during which one worker process is killed, against the same fit
    undisturbed: the models must be the same.
``predictions``
    Lazy predictions on a Dask DataFrame against ``to_local()``'s on the
    same rows.

Run from the repository root (``pip install -e ".[dask,bench]"`` and the
dataset packages of ``tabular_datasets.py``)::

    python benchmarks/dask_tabular.py accuracy --seeds 0,1,2
    python benchmarks/dask_tabular.py memory
    python benchmarks/dask_tabular.py report

Timings are only meaningful on an idle machine (``/work/tools/quiet.py``).
"""

import argparse
import datetime
import json
import os
import platform
import signal
import sys
import time
import warnings
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import dask
import dask.dataframe as dd
import distributed
import numpy as np
import pandas as pd
import psutil
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import skdeep  # noqa: E402
import skdeep.dask  # noqa: E402
from benchmarks._cluster_usage import (  # noqa: E402
    RssSampler,
    local_cluster,
    worker_cpu_seconds,
    worker_peaks_mb,
)
from benchmarks.tabular_datasets import REGISTRY, list_datasets, load_dataset  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def _environment():
    return {
        "date": f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        "machine": (f"{platform.machine()}, {os.cpu_count()} cores, "
                    f"{psutil.virtual_memory().total / 2**30:.0f} GiB"),
        "versions": (f"Python {platform.python_version()}, NumPy {np.__version__}, pandas "
                     f"{pd.__version__}, Dask {dask.__version__}, distributed "
                     f"{distributed.__version__}, skdeep {skdeep.__version__}"),
        "load": os.getloadavg()[0],
    }


def _estimators(task):
    if task == "regression":
        return skdeep.TabularMLPRegressor, skdeep.dask.TabularMLPRegressor
    return skdeep.TabularMLPClassifier, skdeep.dask.TabularMLPClassifier


# --------------------------------------------------------------------------
# Accuracy on the tune-half tables
# --------------------------------------------------------------------------


def _split(name, seed):
    X, y = load_dataset(name)
    stratify = None if REGISTRY[name].task == "regression" else y
    return train_test_split(X, y, test_size=0.2, random_state=seed, stratify=stratify)


def _done(path):
    if not path.exists():
        return set()
    return {(r["dataset"], r["seed"], r["model"]) for r in map(json.loads, path.open())}


def accuracy_run(args):
    path = Path(args.out)
    done = _done(path)
    names = args.datasets.split(",") if args.datasets else [
        spec.name for spec in list_datasets(half="tune")]
    seeds = [int(s) for s in args.seeds.split(",")]
    models = args.models.split(",")
    cluster, client = local_cluster(2)
    try:
        for name in names:
            Local, Distributed = _estimators(REGISTRY[name].task)
            for seed in seeds:
                X_train, X_test, y_train, y_test = _split(name, seed)
                for model in models:
                    if (name, seed, model) in done:
                        continue
                    start = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        if model == "memory":
                            fitted = Local(random_state=seed).fit(X_train, y_train)
                        else:
                            # The table as pandas has it: no conversion of object
                            # columns to Arrow strings.
                            with dask.config.set({"dataframe.convert-string": False}):
                                X_dask = dd.from_pandas(X_train, npartitions=args.partitions)
                                y_dask = dd.from_pandas(y_train, npartitions=args.partitions)
                            fitted = Distributed(random_state=seed, sync=model).fit(X_dask, y_dask)
                    seconds = time.perf_counter() - start
                    score = float(fitted.score(X_test, y_test))
                    record = {"dataset": name, "seed": seed, "model": model, "score": score,
                              "seconds": seconds, "partitions": args.partitions,
                              "n_iter": np.asarray(fitted.n_iter_).tolist()}
                    with path.open("a") as out:
                        out.write(json.dumps(record) + "\n")
                    print(json.dumps(record), flush=True)
    finally:
        client.close()
        cluster.close()


def accuracy_report(path, models):
    records = [json.loads(line) for line in Path(path).open()]
    frame = pd.DataFrame(records)
    lines = []
    for model in models:
        if model == "memory" or model not in set(frame["model"]):
            continue
        paired = frame.pivot_table(index=["dataset", "seed"], columns="model", values="score")
        paired = paired.dropna(subset=["memory", model])
        per_table = paired.groupby("dataset")[["memory", model]].mean()
        n_seeds = paired.groupby("dataset").size()
        seed_spread = paired.groupby("dataset")["memory"].std()
        difference = per_table[model] - per_table["memory"]
        times = frame.pivot_table(index="dataset", columns="model", values="seconds")
        lines += [
            f"### `sync=\"{model}\"` against the in-memory estimator",
            "",
            "| table | seeds | in memory | Dask | difference | in-memory seed std | "
            "fit time in memory / Dask |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for table in per_table.index:
            lines.append(
                f"| {table} | {n_seeds[table]} | {per_table.loc[table, 'memory']:.4f} | "
                f"{per_table.loc[table, model]:.4f} | {difference[table]:+.4f} | "
                f"{seed_spread[table]:.4f} | {times.loc[table, 'memory']:.0f} s / "
                f"{times.loc[table, model]:.0f} s |")
        lines += [
            f"| **mean over {len(per_table)} tables** | | {per_table['memory'].mean():.4f} | "
            f"{per_table[model].mean():.4f} | {difference.mean():+.4f} | | |",
            "",
            (f"Largest difference on a table: {difference.abs().max():.4f} "
             f"({difference.abs().idxmax()}); tables within 0.01: "
             f"{int((difference.abs() <= 0.01).sum())} of {len(difference)}."),
            "",
        ]
    return lines


# --------------------------------------------------------------------------
# Memory at 10,000,000 rows
# --------------------------------------------------------------------------


def _generated_partition(seed, n_rows):
    """One partition of the generated mixed table (made on a worker)."""
    rng = np.random.default_rng(seed)
    size = rng.lognormal(size=n_rows)
    size[rng.random(n_rows) < 0.1] = np.nan
    income = rng.choice([21_000.0, 35_500.0, 48_250.0], n_rows) + rng.normal(size=n_rows) * 500
    cities = np.array(["Lyon", "Nice", "Paris", "Brest", "Lille", "Metz", "Caen", "Dijon",
                       "Reims", "Tours", "Nancy", "Rouen"], dtype=object)
    city = cities[rng.integers(0, len(cities), n_rows)]
    city[rng.random(n_rows) < 0.05] = None
    grade = pd.Categorical.from_codes(rng.integers(0, 5, n_rows), list("abcde"))
    member = rng.random(n_rows) < 0.4
    score = rng.normal(size=n_rows)
    logit = (np.nan_to_num(size) - 1.5 + (city == "Paris") * 1.0 + score
             - (grade.codes == 2) * 0.8 + member * 0.5)
    target = (logit + rng.normal(scale=0.7, size=n_rows) > 0).astype(np.int8)
    X = pd.DataFrame({"size": size, "income": income, "score": score,
                      "city": pd.array(city, dtype="string"), "grade": grade,
                      "member": member})
    X["target"] = target
    return X


def generated_table(n_rows, n_partitions, seed=0):
    """A Dask DataFrame whose partitions are generated on the workers."""
    rows = [n_rows // n_partitions + (i < n_rows % n_partitions) for i in range(n_partitions)]
    meta = _generated_partition(0, 2).iloc[:0]
    frame = dd.from_map(_generated_partition, [seed * 100_000 + i for i in range(n_partitions)],
                        rows, meta=meta, enforce_metadata=False)
    return frame.drop(columns="target"), frame["target"]


def memory_run(args):
    cluster, client = local_cluster(2)
    try:
        X, y = generated_table(args.rows, args.memory_partitions)
        params = {"max_iter": args.epochs, "random_state": 0, "sync": args.sync}
        if args.warm_up_rows:
            # The client's one-off costs (imports, BLAS buffers, thread stacks, the
            # scheduler's first tasks) are paid by a small fit first, so that the
            # growth measured is what the table's size costs.
            X_small, y_small = generated_table(args.warm_up_rows, 4, seed=2)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                skdeep.dask.TabularMLPClassifier(**params).fit(X_small, y_small)
        start = time.perf_counter()
        with RssSampler() as rss, warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = skdeep.dask.TabularMLPClassifier(**params).fit(X, y)
        seconds = time.perf_counter() - start
        members = getattr(model, "estimators_", [model])
        epoch_seconds = [record["time"] for record in members[0].history_]
        X_test, y_test = generated_table(200_000, 2, seed=1)
        accuracy = model.score(X_test, y_test)
        return {"rows": args.rows, "partitions": args.memory_partitions, "params": params,
                "warm_up_rows": args.warm_up_rows,
                "seconds": seconds, "epoch_seconds": epoch_seconds,
                "client_growth_mb": rss.growth_mb, "client_base_mb": rss.baseline / 2**20,
                "worker_peaks_mb": worker_peaks_mb(client), "accuracy": float(accuracy)}
    finally:
        client.close()
        cluster.close()


# --------------------------------------------------------------------------
# Speed-up of 2 workers against 1
# --------------------------------------------------------------------------


def speedup_run(args, n_workers):
    cluster, client = local_cluster(n_workers)
    try:
        X, y = generated_table(args.speedup_rows, 8)
        X, y = client.persist([X, y])  # generated before the clock starts
        distributed.wait([X, y])
        params = {"max_iter": args.speedup_epochs, "random_state": 0, "sync": args.sync,
                  "batch_size": args.speedup_batch}
        times, cpu = [], []
        for _ in range(args.repeats):
            cpu_before = worker_cpu_seconds(client)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                start = time.perf_counter()
                skdeep.dask.TabularMLPClassifier(**params).fit(X, y)
            times.append(time.perf_counter() - start)
            cpu.append(np.subtract(worker_cpu_seconds(client), cpu_before).tolist())
        fastest = int(np.argmin(times))
        return {"workers": n_workers, "seconds": times, "fastest": times[fastest],
                "cpu_seconds": cpu[fastest], "params": params}
    finally:
        client.close()
        cluster.close()


# --------------------------------------------------------------------------
# A worker killed mid-fit; lazy predictions
# --------------------------------------------------------------------------


def _worker_pids(client):
    return client.run(os.getpid)


def _counting(client, sync, calls, action=None):
    """Count (and act on) the fit's exchanges with the workers; returns how to stop.

    With ``sync="step"`` the steps (actor calls on a LocalCluster, which
    are no gathers), otherwise the client's gathers.
    """
    if sync == "step":
        from skdeep.dask._members import MemberSteps

        owner, name = MemberSteps, "_worker_sums"
    else:
        owner, name = client, "gather"
    real = getattr(owner, name)

    def counted(*a, **k):
        calls.append(1)
        if action is not None:
            action(len(calls))
        return real(*a, **k)

    setattr(owner, name, counted)
    return lambda: setattr(owner, name, real)


def killed_run(args):
    cluster, client = local_cluster(2)
    try:
        X, y = generated_table(args.killed_rows, 6)
        params = {"max_iter": 4, "random_state": 0, "sync": args.sync,
                  "hidden_layer_sizes": (64, 64)}
        calls = []
        stop_counting = _counting(client, args.sync, calls)
        try:
            reference = skdeep.dask.TabularMLPClassifier(**params).fit(X, y)
        finally:
            stop_counting()
        n_calls = len(calls)
        kill_at = int(n_calls * args.kill_at)
        before = _worker_pids(client)
        victim = max(before)

        def kill(n_done):
            if n_done == kill_at:
                os.kill(before[victim], signal.SIGKILL)

        calls.clear()
        stop_counting = _counting(client, args.sync, calls, kill)
        try:
            disturbed = skdeep.dask.TabularMLPClassifier(**params).fit(X, y)
        finally:
            stop_counting()
        client.wait_for_workers(2, timeout=120)
        after = _worker_pids(client)
        difference = max(
            float(np.max(np.abs(a - b)))
            for ref, dis in zip(reference.estimators_, disturbed.estimators_)
            for a, b in zip(ref.coefs_, dis.coefs_))
        X_test, _ = generated_table(20_000, 2, seed=1)
        X_test = X_test.compute()
        same_predictions = bool((reference.predict_proba(X_test)
                                 == disturbed.predict_proba(X_test)).all())
        return {"rows": args.killed_rows, "counted": "steps" if args.sync == "step" else "gathers",
                "calls": n_calls, "killed_at_call": kill_at,
                "killed_pid": before[victim],
                "worker_restarted": before[victim] not in after.values(),
                "largest_weight_difference": difference,
                "same_predictions": same_predictions}
    finally:
        client.close()
        cluster.close()


def predictions_run(args):
    cluster, client = local_cluster(2)
    try:
        X, y = generated_table(50_000, 5)
        model = skdeep.dask.TabularMLPClassifier(max_iter=3, random_state=0,
                                                 sync=args.sync).fit(X, y)
        X_new, _ = generated_table(30_000, 3, seed=2)
        lazy_labels = model.predict(X_new).compute()
        lazy_proba = model.predict_proba(X_new).compute()
        local = model.to_local()
        partitions = dask.compute(*X_new.to_delayed())
        local_labels = np.concatenate([local.predict(part) for part in partitions])
        local_proba = np.concatenate([local.predict_proba(part) for part in partitions])
        whole = local.predict_proba(pd.concat(partitions))
        return {"rows": len(local_labels),
                "labels_equal": bool((lazy_labels == local_labels).all()),
                "probabilities_equal_partition_by_partition": bool(
                    (lazy_proba == local_proba).all()),
                "labels_equal_on_the_whole_frame": bool(
                    (lazy_labels == local.predict(pd.concat(partitions))).all()),
                "largest_probability_difference_on_the_whole_frame": float(
                    np.max(np.abs(lazy_proba - whole)))}
    finally:
        client.close()
        cluster.close()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["accuracy", "memory", "speedup", "killed",
                                            "predictions", "report"])
    parser.add_argument("--datasets", default="", help="comma-separated (default: tune half)")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--models", default="memory,step",
                        help="memory and/or the Dask estimators' sync modes (step, epoch)")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--sync", default="step")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--memory-partitions", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--warm-up-rows", type=int, default=0,
                        help="memory: fit a table of this many rows first (0: none)")
    parser.add_argument("--speedup-rows", type=int, default=400_000)
    parser.add_argument("--speedup-epochs", type=int, default=2)
    parser.add_argument("--speedup-batch", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--killed-rows", type=int, default=60_000)
    parser.add_argument("--kill-at", type=float, default=0.6,
                        help="kill at this fraction of the undisturbed fit's steps "
                             "(sync=\"step\") or gathers")
    parser.add_argument("--out", default=str(RESULTS / "dask-tabular-accuracy.jsonl"))
    parser.add_argument("--json", default=str(RESULTS / "dask-tabular.json"),
                        help="where memory, speedup, killed and predictions store results")
    return parser.parse_args(argv)


def _store(path, key, value):
    path = Path(path)
    stored = json.loads(path.read_text()) if path.exists() else {}
    stored[key] = {**value, "environment": _environment()}
    path.write_text(json.dumps(stored, indent=1))
    print(json.dumps({key: stored[key]}, indent=1))


def main(argv=None):
    args = parse_args(argv)
    if args.command == "accuracy":
        accuracy_run(args)
    elif args.command == "report":
        print("\n".join(accuracy_report(args.out, args.models.split(","))))
    elif args.command == "memory":
        key = f"memory-{args.sync}" + ("-warm" if args.warm_up_rows else "")
        _store(args.json, key, memory_run(args))
    elif args.command == "speedup":
        results = {n: speedup_run(args, n) for n in (1, 2)}
        results["speedup"] = results[1]["fastest"] / results[2]["fastest"]
        results["median_speedup"] = (float(np.median(results[1]["seconds"]))
                                     / float(np.median(results[2]["seconds"])))
        _store(args.json, f"speedup-{args.sync}", {str(k): v for k, v in results.items()})
    elif args.command == "killed":
        _store(args.json, f"killed-{args.sync}", killed_run(args))
    else:
        _store(args.json, f"predictions-{args.sync}", predictions_run(args))


if __name__ == "__main__":
    main()
