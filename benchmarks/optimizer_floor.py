#!/usr/bin/env python
"""How much of an Adam epoch is the optimizer: the floor below skdeep's floor.

The speed benchmark's GEMM floor counts only the matrix products of an
epoch. An Adam epoch also updates every parameter once per mini-batch, and
that update (nine passes over the flat parameter vector: two moments, the
square root, the division, the step) has a cost of its own that no loop
around the products can avoid without changing Adam's arithmetic. This
script measures, for each Adam workload of ``workloads.py``, in one process:

- the GEMM floor of one epoch (``peers.run_gemm_floor``'s products);
- skdeep's Adam update, run as many times as the epoch has mini-batches,
  on a parameter vector of the workload's size;
- a whole skdeep epoch (``MLPClassifier`` / ``MLPRegressor``, as ``run.py``
  fits them);

with one BLAS thread and with the library default, and reports
``(GEMM floor + Adam) / GEMM floor``: the smallest skdeep / GEMM floor
ratio reachable if everything else in the epoch (activations, loss, biases,
penalty, batch gathering) cost nothing.

Example (from the repository root; about 3 minutes on 2 cores)::

    python benchmarks/optimizer_floor.py            # writes results/optimizer_floor.md
    python benchmarks/optimizer_floor.py --workloads clf-wide --repeats 5
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from itertools import pairwise
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from benchmarks.peers import _gemm_buffers, _gemm_step
from benchmarks.workloads import (
    DTYPES,
    MODEL_SEED,
    WORKLOADS,
    estimator_params,
    layer_sizes,
    load_data,
)

RESULTS = REPO / "benchmarks" / "results"


def _median_seconds(run, repeats):
    """Median wall time of ``run()`` over ``repeats`` calls, after one warm-up."""
    run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def _batches(n, batch_size):
    return [slice(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]


def gemm_epoch(X, sizes, batch_size):
    """A callable running one epoch of the GEMM floor's products."""
    rng = np.random.default_rng(MODEL_SEED)
    weights = [(rng.standard_normal((a, b)) / np.sqrt(a)).astype(X.dtype)
               for a, b in pairwise(sizes)]
    grads = [np.empty_like(w) for w in weights]
    slices = _batches(len(X), batch_size)
    buffers = {rows: _gemm_buffers(sizes, rows, X.dtype, rng)
               for rows in {s.stop - s.start for s in slices}}

    def run():
        for s in slices:
            _gemm_step(X[s], weights, grads, buffers[s.stop - s.start])
    return run


def adam_epoch(n_params, n_batches, dtype):
    """A callable running ``n_batches`` skdeep Adam updates of ``n_params`` parameters."""
    from skdeep._engine import Adam

    rng = np.random.default_rng(MODEL_SEED)
    params = rng.standard_normal(n_params).astype(dtype)
    grad = (rng.standard_normal(n_params) * 1e-2).astype(dtype)
    optimizer = Adam(n_params, dtype, 1e-3)

    def run():
        for _ in range(n_batches):
            optimizer.step(params, grad)
    return run


def skdeep_epoch(wl, X, y):
    """A callable fitting skdeep for one epoch of ``wl`` (as run.py does)."""
    from skdeep import MLPClassifier, MLPRegressor

    Estimator = MLPClassifier if wl.task == "clf" else MLPRegressor
    params = {**estimator_params(wl), "max_iter": 1, "n_iter_no_change": 10}

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Estimator(**params).fit(X, y)
    return run


def n_parameters(sizes):
    """Weights and biases of a dense network with these layer widths."""
    return sum(a * b + b for a, b in pairwise(sizes))


def measure(wl, dtype, threads, repeats):
    """One row: seconds per epoch of each part, under ``threads`` BLAS threads."""
    X, _, y, _ = load_data(wl, dtype)
    sizes = layer_sizes(wl, X, y)
    batch_size = min(wl.batch_size, len(X))
    n_batches = len(_batches(len(X), batch_size))
    with threadpool_limits(limits=threads):
        gemm = _median_seconds(gemm_epoch(X, sizes, batch_size), repeats)
        adam = _median_seconds(adam_epoch(n_parameters(sizes), n_batches, X.dtype), repeats)
        # A one-epoch fit also builds the model and scores the epoch: a
        # little above the per-epoch time of a long fit.
        fit = _median_seconds(skdeep_epoch(wl, X, y), repeats)
    return {"workload": wl.name, "dtype": dtype, "threads": "1" if threads == 1 else "default",
            "n_params": n_parameters(sizes), "n_batches": n_batches,
            "gemm": gemm, "adam": adam, "skdeep": fit}


def markdown(rows):
    """The rows as a Markdown table, with the derived ratios."""
    lines = [
        ("| workload | dtype | threads | parameters | batches | GEMM floor | Adam updates "
         "| skdeep epoch | Adam / GEMM floor | (GEMM floor + Adam) / GEMM floor "
         "| skdeep / GEMM floor |"),
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['workload']} | {r['dtype']} | {r['threads']} | {r['n_params']:,} "
            f"| {r['n_batches']} | {r['gemm'] * 1e3:.1f} ms | {r['adam'] * 1e3:.1f} ms "
            f"| {r['skdeep'] * 1e3:.1f} ms | {r['adam'] / r['gemm']:.2f} "
            f"| {(r['gemm'] + r['adam']) / r['gemm']:.2f}× | {r['skdeep'] / r['gemm']:.2f}× |"
        )
    return "\n".join(lines) + "\n"


def _header(command, seconds):
    blas = ", ".join(f"{i['internal_api']} {i['version']} ({i['num_threads']} thread(s))"
                     for i in threadpool_info() if i["user_api"] == "blas")
    return (f"Run {time.strftime('%Y-%m-%d %H:%M')}, BLAS: {blas}; one process, every part "
            f"timed back to back (median of the repeats after a warm-up). "
            f"Command: `{command}` ({seconds:.0f} s).\n\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    adam_workloads = [name for name, wl in WORKLOADS.items()
                      if wl.solver == "adam" and wl.mode == "fit"]
    parser.add_argument("--workloads", default=",".join(adam_workloads))
    parser.add_argument("--dtypes", default=",".join(DTYPES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "optimizer_floor.md")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = []
    for name in args.workloads.split(","):
        for dtype in args.dtypes.split(","):
            for threads in (1, None):
                row = measure(WORKLOADS[name], dtype, threads, args.repeats)
                print(row, flush=True)
                rows.append(row)
    command = "python benchmarks/optimizer_floor.py " + " ".join(argv or sys.argv[1:])
    text = _header(command.strip(), time.perf_counter() - started) + markdown(rows)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
