#!/usr/bin/env python
"""Wall time of a GridSearchCV on a Dask cluster with 1 and with 2 workers.

The search: 8 candidates x 3 folds (24 fits, then the refit) of an
``MLPClassifier`` on scikit-learn's digits, under
``joblib.parallel_backend("dask")``. Each cluster is a ``LocalCluster`` of
single-threaded worker processes, started (and warmed up: every worker
imports skdeep) before the clock starts, so the times are those of the
search alone. An in-process run (``n_jobs=1``, one BLAS thread) is the
reference.

Run from the repository root (needs ``pip install "dask[array]" distributed``)::

    python benchmarks/dask_search.py
    python benchmarks/dask_search.py --repeats 3 --max-iter 50

The speed-up with 2 workers is at most 2: the 24 fits are independent, but
the refit on the whole data runs alone at the end, and on a 2-core machine
the scheduler and the client share the cores with the workers.
"""

import argparse
import os
import platform
import statistics
import time
import warnings

# One BLAS thread in this process too, before NumPy is imported.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import joblib  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skdeep import MLPClassifier  # noqa: E402

GRID = {
    "hidden_layer_sizes": [(32,), (64,)],
    "alpha": [1e-4, 1e-2],
    "learning_rate_init": [1e-3, 1e-2],
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeats", type=int, default=3, help="searches per setting (median; default 3)"
    )
    parser.add_argument("--max-iter", type=int, default=100, help="epochs per fit (default 100)")
    parser.add_argument("--workers", default="1,2", help="cluster sizes (default 1,2)")
    return parser.parse_args(argv)


def _search(max_iter, n_jobs):
    estimator = MLPClassifier(max_iter=max_iter, random_state=0)
    return GridSearchCV(estimator, GRID, cv=3, n_jobs=n_jobs)


def _time_search(X, y, max_iter, n_jobs, repeats, backend=None):
    times, best = [], None
    for _ in range(repeats):
        search = _search(max_iter, n_jobs)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if backend is None:
                search.fit(X, y)
            else:
                with joblib.parallel_backend(backend):
                    search.fit(X, y)
        times.append(time.perf_counter() - start)
        best = search.best_params_
    return statistics.median(times), best


def _warm_up():
    import skdeep  # noqa: F401  (imported in each worker)

    return os.getpid()


def main(argv=None):
    args = parse_args(argv)
    from distributed import Client, LocalCluster

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    n_candidates = int(np.prod([len(v) for v in GRID.values()]))
    print(
        f"GridSearchCV: {n_candidates} candidates x 3 folds on digits {X.shape}, "
        f"MLPClassifier(max_iter={args.max_iter}), {args.repeats} repeat(s), median wall time"
    )
    print(f"machine: {os.cpu_count()} cores, {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")

    local, local_best = _time_search(X, y, args.max_iter, 1, args.repeats)
    print(f"in process, n_jobs=1        {local:7.1f} s   best {local_best}")

    results = {}
    for n_workers in [int(n) for n in args.workers.split(",")]:
        start = time.perf_counter()
        with LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster, Client(cluster) as client:
            client.wait_for_workers(n_workers)
            client.run(_warm_up)
            startup = time.perf_counter() - start
            elapsed, best = _time_search(X, y, args.max_iter, -1, args.repeats, backend="dask")
        results[n_workers] = elapsed
        print(f"dask, {n_workers} worker(s)          {elapsed:7.1f} s   best {best}   "
              f"(cluster start-up {startup:.1f} s, not counted)")
        if best != local_best:
            print("  warning: best_params_ differ from the in-process search")

    if 1 in results and 2 in results:
        print(f"speed-up, 2 workers vs 1:   {results[1] / results[2]:.2f}x")
    print(f"load average after the runs {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
