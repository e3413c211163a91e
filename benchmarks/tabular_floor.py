"""How close a tabular fit comes to the cost of its own matrix products.

A ``TabularMLPClassifier`` / ``TabularMLPRegressor`` fit is run once while
every ``np.matmul`` call it makes is recorded (operand shapes, dtypes and
which operand is a transposed view); the recorded calls are then replayed
alone, on fresh arrays of the same shapes and layouts, at the same thread
setting. The replay is the fit's *GEMM floor*: the time its matrix
products take with nothing around them (the data loading, encoding,
activations, dropout, the update rule, the validation bookkeeping). The
report gives ``fit time / floor`` per table, as ``optimizer_floor.py`` does
for the MLP workloads: with default threads (what users get) and with one.
With several threads the fit's products run on the step threads; the floor
replays them one after the other with BLAS's own threads::

    python benchmarks/tabular_floor.py                         # three tune tables
    python benchmarks/tabular_floor.py --datasets phone_churn --threads 1

Results go to ``benchmarks/results/tabular-floor.md`` (or ``--out``).
"""

import argparse
import json
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks._worker import run_script_worker, set_thread_env  # noqa: E402  (no NumPy import)

RESULTS = REPO / "benchmarks" / "results"
MARKER = "TABULAR_FLOOR "
DATASETS = ("phone_churn", "hotel_rates", "lending_grade")


def _layout(array):
    """How an operand is laid out: its shape, dtype and whether it is a transposed view."""
    transposed = array.ndim >= 2 and not array.flags.c_contiguous and array.strides[-2] < (
        array.strides[-1])
    return array.shape, array.dtype.str, bool(transposed)


class _Recorder:
    """Wraps ``np.matmul``: every call's operand layouts, from any thread."""

    def __init__(self, np):
        self.np, self.original, self.calls = np, np.matmul, []
        self._lock = threading.Lock()

    def __call__(self, a, b, *args, **kwargs):
        with self._lock:
            self.calls.append((_layout(self.np.asarray(a)), _layout(self.np.asarray(b))))
        return self.original(a, b, *args, **kwargs)

    def __enter__(self):
        self.np.matmul = self
        return self

    def __exit__(self, *exc):
        self.np.matmul = self.original


def _operand(np, layout, rng):
    shape, dtype, transposed = layout
    if not transposed:
        return rng.standard_normal(shape).astype(dtype)
    swapped = (*shape[:-2], shape[-1], shape[-2])
    return rng.standard_normal(swapped).astype(dtype).swapaxes(-1, -2)


def _replay_seconds(np, calls, repeats):
    """Median time of the recorded products, on arrays made once per distinct call."""
    rng = np.random.default_rng(0)
    operands = {}
    plan = []
    for call in calls:
        if call not in operands:
            operands[call] = (_operand(np, call[0], rng), _operand(np, call[1], rng))
        plan.append(operands[call])
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for a, b in plan:
            np.matmul(a, b)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def _worker(spec):
    threads = spec["threads"]
    set_thread_env(threads)
    import numpy as np
    from sklearn.model_selection import train_test_split
    from threadpoolctl import threadpool_limits

    from benchmarks.tabular_datasets import REGISTRY, load_dataset
    from skdeep import TabularMLPClassifier, TabularMLPRegressor

    task = REGISTRY[spec["dataset"]].task
    X, y = load_dataset(spec["dataset"])
    X_train, _, y_train, _ = train_test_split(
        X, y, test_size=0.2, random_state=0, stratify=None if task == "regression" else y)
    Model = TabularMLPRegressor if task == "regression" else TabularMLPClassifier
    limit = None if threads == "default" else int(threads)
    with threadpool_limits(limits=limit):
        Model(random_state=0, max_iter=1).fit(X_train, y_train)  # warm-up (imports, caches)
        started = time.perf_counter()
        Model(random_state=0).fit(X_train, y_train)
        fit_s = time.perf_counter() - started
        with _Recorder(np) as recorder:
            Model(random_state=0).fit(X_train, y_train)
        floor_s = _replay_seconds(np, recorder.calls, spec["repeats"])
    record = {**spec, "fit_s": fit_s, "floor_s": floor_s, "ratio": fit_s / floor_s,
              "n_products": len(recorder.calls)}
    print(MARKER + json.dumps(record), flush=True)


def _run(spec):
    return run_script_worker(Path(__file__).resolve(), spec, MARKER, REPO)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--threads", default="default,1")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(json.loads(args.worker))
        return
    lines = ["# Tabular fit time against its own matrix products", "",
             f"{time.strftime('%Y-%m-%d %H:%M')}; each fit in a fresh process, default "
             "parameters, the split's 80 % training rows.", "",
             "| dataset | threads | fit | its matrix products alone | fit / products | "
             "products |", "|---|---|---:|---:|---:|---:|"]
    for dataset in args.datasets.split(","):
        for threads in args.threads.split(","):
            record = _run({"dataset": dataset, "threads": threads, "repeats": args.repeats})
            print(record, flush=True)
            if "error" in record:
                lines.append(f"| {dataset} | {threads} | {record['error']} | | | |")
                continue
            lines.append(f"| {dataset} | {threads} | {record['fit_s']:.2f} s | "
                         f"{record['floor_s']:.2f} s | {record['ratio']:.2f} | "
                         f"{record['n_products']:,} |")
    markdown = "\n".join(lines) + "\n"
    out = Path(args.out) if args.out else RESULTS / "tabular-floor.md"
    out.write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
