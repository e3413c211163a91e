#!/usr/bin/env python
"""Entity embeddings against one-hot encoding for a high-cardinality column.

The data are the synthetic shop sales of the gallery example
``examples/plot_categorical_embeddings.py`` (the generator is copied below):
rows of (price, temperature, sales channel with 4 levels, product id), where
the log of the units sold depends on three hidden traits of each product.
Two sizes are measured by default:

* ``20k``: 20,000 rows, 1,000 products (about 16 training rows per product);
* ``100k``: 100,000 rows, 10,000 products (about 8 training rows per product).

20 % of the rows are held out for the score. The methods, all with one hidden
layer of 64 ReLU units, Adam, ``learning_rate_init=0.003``,
``early_stopping=True`` (10 % of the training rows) and ``max_iter=200``:

* ``embeddings``: ``skdeep.MLPRegressor(categorical_features="from_dtype")``
  on the DataFrame (default ``embedding_dim``: 50 for both sizes, 3 for the
  channel);
* ``one-hot sparse``: ``make_column_transformer((OneHotEncoder(
  handle_unknown="ignore"), [channel, product_id]), remainder="passthrough")``
  in a pipeline with ``skdeep.MLPRegressor``, which trains on the sparse
  matrix the transformer returns;
* ``one-hot dense``: the same with ``OneHotEncoder(sparse_output=False)``;
  skipped when its input matrix would exceed ``--max-dense-gb`` (the
  100k-row table would need 6.4 GB);
* ``sklearn one-hot sparse``: the sparse pipeline with scikit-learn's own
  ``sklearn.neural_network.MLPRegressor`` (same parameters). It is the
  slowest, so on tables of more than 20,000 rows it runs on seed 0 only
  (``--sklearn-all-seeds-rows``).

Every fit runs in a fresh Python process (``python -m benchmarks.embeddings
--worker SPEC``) with BLAS/OpenMP limited to one thread, after an untimed
two-epoch warm-up fit on 2,000 rows. Reported per (size, method), over the
seeds (the seed drives both the data and the model): held-out R^2 (mean ±
std), fit wall time (the whole pipeline, encoding included), time per epoch,
epochs run (``n_iter_``), peak resident memory above the process's baseline
during the fit (``benchmarks/_memory.PeakRSS``), the size of the network's
input matrix and the number of trainable parameters.

Run from the repository root (about 11 minutes on a shared 2-core machine)::

    python benchmarks/embeddings.py                  # 3 seeds, both sizes
    python benchmarks/embeddings.py --seeds 1 --sizes 20k   # ~1 minute
    python benchmarks/embeddings.py --methods embeddings,one-hot-sparse

The Markdown report goes to ``benchmarks/results/embeddings.md`` (``--out``
to change) and the individual runs to ``--json`` if given;
``--render RUNS.json`` rewrites the report from saved runs without fitting.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._worker import MARKER, set_thread_env  # noqa: E402

SIZES = {"20k": (20_000, 1_000), "100k": (100_000, 10_000)}
METHODS = ("embeddings", "one-hot-sparse", "one-hot-dense", "sklearn-one-hot-sparse")
LABELS = {
    "embeddings": "skdeep, embeddings",
    "one-hot-sparse": "skdeep, one-hot sparse",
    "one-hot-dense": "skdeep, one-hot dense",
    "sklearn-one-hot-sparse": "sklearn, one-hot sparse",
}
MODEL_PARAMS = dict(
    hidden_layer_sizes=(64,), learning_rate_init=0.003, max_iter=200, early_stopping=True
)
TEST_FRACTION = 0.2
WARMUP_ROWS = 2_000


# --------------------------------------------------------------------------
# data (a copy of the gallery example's generator)
# --------------------------------------------------------------------------
def make_shop_sales(n_rows, n_products, seed=0):
    """Sales rows of ``n_products`` products with three hidden traits each.

    Returns ``(frame, log_units)``: a DataFrame with ``price`` and
    ``temperature`` (standard normal), ``channel`` (4 levels) and
    ``product_id`` (a ``category`` column declaring the whole catalogue), and
    the target. Each product has a popularity (sd 1), a seasonality (slope on
    temperature, sd 1.5) and a price sensitivity (sd 0.5 around a common
    slope of -0.5); the noise has sd 0.5.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    catalogue = np.array([f"P{p:05d}" for p in range(n_products)])
    traits = np.column_stack(
        [
            rng.normal(size=n_products),
            1.5 * rng.normal(size=n_products),
            0.5 * rng.normal(size=n_products),
        ]
    )
    product = rng.integers(0, n_products, n_rows)
    price, temperature, noise = rng.normal(size=(3, n_rows))
    channels = np.array(["web", "app", "marketplace", "phone"])
    channel = rng.integers(0, len(channels), n_rows)
    channel_effect = np.array([0.0, 0.5, -0.5, -1.0])[channel]
    t = traits[product]
    log_units = (
        t[:, 0] + t[:, 1] * temperature - (0.5 + t[:, 2]) * price + channel_effect + 0.5 * noise
    )
    frame = pd.DataFrame(
        {
            "price": price,
            "temperature": temperature,
            "channel": pd.Categorical(channels[channel]),
            "product_id": pd.Categorical(catalogue[product], categories=catalogue),
        }
    )
    return frame, log_units


def split(frame, y):
    """The last ``TEST_FRACTION`` of the (i.i.d.) rows is the test set."""
    n_train = int(round(len(frame) * (1 - TEST_FRACTION)))
    return frame.iloc[:n_train], frame.iloc[n_train:], y[:n_train], y[n_train:]


# --------------------------------------------------------------------------
# worker: one fit in a fresh process
# --------------------------------------------------------------------------
def build_model(method, seed, **overrides):
    """The estimator (or pipeline) of ``method``."""
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    params = {**MODEL_PARAMS, "random_state": seed, **overrides}
    if method == "embeddings":
        from skdeep import MLPRegressor

        return MLPRegressor(categorical_features="from_dtype", **params)
    if method == "sklearn-one-hot-sparse":
        from sklearn.neural_network import MLPRegressor
    else:
        from skdeep import MLPRegressor
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=method != "one-hot-dense")
    columns = make_column_transformer(
        (encoder, ["channel", "product_id"]), remainder="passthrough"
    )
    return make_pipeline(columns, MLPRegressor(**params))


def input_bytes(model, X_train):
    """Bytes of the matrix the network trains on (sparse: data+indices+indptr)."""
    import scipy.sparse as sp

    if not hasattr(model, "steps"):
        # skdeep's encoded array: one float64 (a code, for categories) per column.
        return X_train.shape[0] * X_train.shape[1] * 8
    matrix = model[0].transform(X_train)
    if sp.issparse(matrix):
        return matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes
    return matrix.nbytes


def measure(spec):
    """Fit ``spec["method"]`` once on the spec's data; return the metrics."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from benchmarks._memory import PeakRSS
    from benchmarks.peers import Stopwatch

    n_rows, n_products = spec["n_rows"], spec["n_products"]
    frame, y = make_shop_sales(n_rows, n_products, seed=spec["seed"])
    X_train, X_test, y_train, y_test = split(frame, y)
    warnings.simplefilter("ignore", ConvergenceWarning)
    if spec.get("warmup", True):
        build_model(spec["method"], spec["seed"], max_iter=2).fit(
            X_train.iloc[:WARMUP_ROWS], y_train[:WARMUP_ROWS]
        )
    model = build_model(spec["method"], spec["seed"])
    with PeakRSS() as mem, Stopwatch() as clock:
        model.fit(X_train, y_train)
    mlp = model[-1] if hasattr(model, "steps") else model
    arrays = mlp.coefs_ + mlp.intercepts_ + list(getattr(mlp, "embeddings_", []))
    score = model.score(X_test, y_test)
    return dict(
        score=float(score),
        fit_seconds=clock.wall,
        cpu_seconds=clock.cpu,
        epochs=int(mlp.n_iter_),
        sec_per_epoch=clock.wall / mlp.n_iter_,
        peak_mem_mb=mem.peak_mb,
        mem_method=mem.method,
        input_bytes=int(input_bytes(model, X_train)),
        n_params=int(sum(a.size for a in arrays)),
        n_train=len(X_train),
    )


def worker_main(spec_json):
    """``--worker`` entry point: limit threads, measure, print one JSON line."""
    spec = json.loads(spec_json)
    set_thread_env(1)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        result = measure(spec)
    sys.stdout.write(MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


# --------------------------------------------------------------------------
# parent: run every job, summarise, write the report
# --------------------------------------------------------------------------
def dense_one_hot_gb(n_rows, n_products):
    """Size of the dense one-hot training matrix (float64), in GB."""
    n_train = int(round(n_rows * (1 - TEST_FRACTION)))
    return n_train * (n_products + 4 + 2) * 8 / 1e9


def run_job(spec, timeout):
    """One fresh worker process; ``(True, metrics)`` or ``(False, error)``."""
    from benchmarks.run import worker_env

    cmd = [sys.executable, "-m", "benchmarks.embeddings", "--worker", json.dumps(spec)]
    try:
        proc = subprocess.run(cmd, cwd=REPO, env=worker_env(1), capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f"timeout after {timeout:.0f}s"
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER):
            return True, json.loads(line[len(MARKER):])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return False, f"exit {proc.returncode}: {tail}"


def build_jobs(args):
    """Every (size, seed, method) spec; methods rotate per seed; skipped ones noted."""
    jobs, skipped = [], []
    for size in args.sizes:
        n_rows, n_products = SIZES[size]
        for seed in range(args.seeds):
            shift = seed % len(args.methods)
            for method in args.methods[shift:] + args.methods[:shift]:
                gb = dense_one_hot_gb(n_rows, n_products)
                if method == "one-hot-dense" and gb > args.max_dense_gb:
                    if seed == 0:
                        skipped.append((size, method, gb))
                    continue
                if (method == "sklearn-one-hot-sparse" and n_rows > args.sklearn_all_seeds_rows
                        and seed > 0):
                    continue  # the slowest peer: seed 0 only on the large tables
                jobs.append(dict(size=size, n_rows=n_rows, n_products=n_products,
                                 seed=seed, method=method, warmup=not args.cold))
    return jobs, skipped


def _mean_std(values, fmt):
    import numpy as np

    values = np.asarray(values, dtype=float)
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(values.mean())} ± {fmt.format(values.std())}"


def _bytes(n):
    return f"{n / 1e6:,.2f} MB" if n < 1e9 else f"{n / 1e9:,.1f} GB"


def summary_table(runs, sizes, methods, skipped):
    """The Markdown table: one row per (size, method)."""
    import numpy as np

    lines = [
        "| data | method | held-out R² | fit time (s) | s / epoch | epochs | "
        "peak RSS (MB) | network input | parameters |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        n_rows, n_products = SIZES[size]
        data = f"{n_rows:,} rows, {n_products:,} products"
        for method in methods:
            mine = [r["metrics"] for r in runs
                    if r["ok"] and r["size"] == size and r["method"] == method]
            failed = [r for r in runs
                      if not r["ok"] and r["size"] == size and r["method"] == method]
            skip = [gb for s, m, gb in skipped if s == size and m == method]
            if skip:
                lines.append(f"| {data} | {LABELS[method]} | skipped: the dense input "
                             f"would take {skip[0]:.1f} GB | | | | | | |")
                continue
            if not mine:
                if failed:
                    lines.append(f"| {data} | {LABELS[method]} | failed: "
                                 f"{failed[0]['error']} | | | | | | |")
                continue
            col = {k: [m[k] for m in mine] for k in mine[0]}
            extra = f" ({len(failed)} failed)" if failed else ""
            n_seeds = len({r["seed"] for r in runs if r["size"] == size})
            if len(mine) < n_seeds and not failed:
                extra += f" ({len(mine)} seed{'s' if len(mine) > 1 else ''})"
            lines.append(
                f"| {data} | {LABELS[method]}{extra} "
                f"| {_mean_std(col['score'], '{:.3f}')} "
                f"| {_mean_std(col['fit_seconds'], '{:.1f}')} "
                f"| {_mean_std(col['sec_per_epoch'], '{:.3f}')} "
                f"| {_mean_std(col['epochs'], '{:.0f}')} "
                f"| {_mean_std(col['peak_mem_mb'], '{:.0f}')} "
                f"| {_bytes(np.median(col['input_bytes']))} "
                f"| {int(np.median(col['n_params'])):,} |"
            )
    return "\n".join(lines)


def per_seed_scores(runs, sizes, methods):
    """A second, small table: held-out R² of every seed, to show the pairing."""
    seeds = sorted({r["seed"] for r in runs})
    lines = ["| data | method | " + " | ".join(f"seed {s}" for s in seeds) + " |",
             "|---|---|" + "---:|" * len(seeds)]
    for size in sizes:
        for method in methods:
            cells = []
            for seed in seeds:
                hit = [r for r in runs if r["ok"] and r["size"] == size
                       and r["method"] == method and r["seed"] == seed]
                cells.append(f"{hit[0]['metrics']['score']:.3f}" if hit else "–")
            if any(c != "–" for c in cells):
                lines.append(f"| {size} | {LABELS[method]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def comparisons(runs, sizes):
    """Bullets comparing methods seed by seed (same data, same model seed)."""
    import numpy as np

    def paired(size, a, b, key):
        by_seed = {}
        for r in runs:
            if r["ok"] and r["size"] == size and r["method"] in (a, b):
                by_seed.setdefault(r["seed"], {})[r["method"]] = r["metrics"][key]
        pairs = [(v[a], v[b]) for v in by_seed.values() if a in v and b in v]
        return np.array(pairs, dtype=float).reshape(-1, 2)

    def ratio(size, a, b, key):
        p = paired(size, a, b, key)
        return f"×{p[:, 0].mean() / p[:, 1].mean():.2f}" if len(p) else "–"

    lines = []
    for size in sizes:
        n_rows, n_products = SIZES[size]
        data = f"{n_rows:,} rows, {n_products:,} products"
        scores = paired(size, "embeddings", "one-hot-sparse", "score")
        if len(scores):
            gain = scores[:, 0] - scores[:, 1]
            epochs = paired(size, "embeddings", "one-hot-sparse", "epochs").mean(axis=0)
            lines.append(
                f"* {data}, skdeep embeddings against skdeep one-hot sparse: R² "
                f"{gain.mean():+.3f} (higher on {(gain > 0).sum()} of {len(gain)} seeds); "
                f"fit time {ratio(size, 'embeddings', 'one-hot-sparse', 'fit_seconds')}, "
                f"time per epoch {ratio(size, 'embeddings', 'one-hot-sparse', 'sec_per_epoch')}"
                f" ({epochs[0]:.0f} against {epochs[1]:.0f} epochs); peak RSS "
                f"{ratio(size, 'embeddings', 'one-hot-sparse', 'peak_mem_mb')}; network input "
                f"{ratio(size, 'embeddings', 'one-hot-sparse', 'input_bytes')}; parameters "
                f"{ratio(size, 'embeddings', 'one-hot-sparse', 'n_params')}."
            )
        peer = paired(size, "one-hot-sparse", "sklearn-one-hot-sparse", "score")
        if len(peer):
            same = np.allclose(peer[:, 0], peer[:, 1], rtol=0, atol=1e-6) and np.array_equal(
                *paired(size, "one-hot-sparse", "sklearn-one-hot-sparse", "epochs").T
            )
            lines.append(
                f"* {data}, skdeep against scikit-learn on the same sparse one-hot input: "
                + ("the same R² and epochs on every seed run by both; "
                   if same else "different R² or epochs; ")
                + "skdeep's time per epoch "
                f"{ratio(size, 'one-hot-sparse', 'sklearn-one-hot-sparse', 'sec_per_epoch')}."
            )
        dense = paired(size, "one-hot-dense", "one-hot-sparse", "sec_per_epoch")
        if len(dense):
            lines.append(
                f"* {data}, skdeep one-hot dense against sparse: time per epoch "
                f"{ratio(size, 'one-hot-dense', 'one-hot-sparse', 'sec_per_epoch')}, peak RSS "
                f"{ratio(size, 'one-hot-dense', 'one-hot-sparse', 'peak_mem_mb')}."
            )
    return "\n".join(lines)


def versions():
    """Library versions, as imported in a worker would see them."""
    import numpy
    import pandas
    import scipy
    import sklearn

    import skdeep

    return dict(numpy=numpy.__version__, scipy=scipy.__version__,
                pandas=pandas.__version__, sklearn=sklearn.__version__,
                skdeep=getattr(skdeep, "__version__", "unknown"))


def write_report(path, meta, runs, args, skipped):
    """Write the Markdown report."""
    v = meta["versions"]
    machine = meta["machine"]
    load = meta["load"]
    text = f"""# Entity embeddings vs one-hot encoding

Produced by `benchmarks/embeddings.py` on {meta['date']} in {meta['wall_seconds'] / 60:.1f} minutes.

* Command: `{meta['command']}`
* Machine: {machine['cpu_model']}, {machine['cores']} cores, {machine['platform']}.
  1-minute load average {load[0]:.2f} at the start and {load[1]:.2f} at the end
  (the machine is shared with other jobs: wall times can be inflated when the
  load exceeds the core count; peak memory and scores are not affected).
* Versions: skdeep {v['skdeep']}, scikit-learn {v['sklearn']}, NumPy {v['numpy']},
  SciPy {v['scipy']}, pandas {v['pandas']}, Python {meta['python']}.
* Every fit in a fresh process, BLAS/OpenMP limited to 1 thread, after an
  untimed 2-epoch warm-up fit on {WARMUP_ROWS:,} rows; {args.seeds} seed(s) per cell
  (the seed drives the data and the model), mean ± std over seeds.

Data: the shop-sales table of `examples/plot_categorical_embeddings.py`
(price, temperature, a 4-level channel, a product id; the log of the units
sold depends on three hidden traits per product, noise sd 0.5). 80 % of the
rows train (10 % of those are early stopping's validation set), 20 % test.
Every model: one hidden layer of 64 ReLU units, Adam,
`learning_rate_init=0.003`, `early_stopping=True`, `max_iter=200`.
The one-hot pipelines are `make_column_transformer((OneHotEncoder(handle_unknown="ignore"[, sparse_output=False]), ["channel", "product_id"]), remainder="passthrough")`.

{summary_table(runs, args.sizes, args.methods, skipped)}

* *fit time* is the whole `fit` of the estimator or pipeline (one-hot encoding
  included); *s / epoch* = fit time / epochs.
* *peak RSS* is the peak resident memory during the fit minus the resident
  memory just before it (`benchmarks/_memory.PeakRSS`, method
  {', '.join(sorted({r['metrics']['mem_method'] for r in runs if r['ok']})) or '–'});
  it includes the encoded or one-hot copy of the training data.
* *network input* is the matrix the network trains on: skdeep's encoded
  array (one float64 per original column, codes for the categorical ones) for
  the embeddings, the ColumnTransformer's output (sparse: data + indices +
  indptr) for one-hot.
* *parameters* counts weights, biases and embedding tables.

Ratios are means of the first method over means of the second, on the
seeds both ran:

{comparisons(runs, args.sizes)}

Held-out R² per seed:

{per_seed_scores(runs, args.sizes, args.methods)}
"""
    notes = meta.get("notes")
    if notes:
        text += "\n" + "\n".join(f"* {note}" for note in notes) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text


def render(args):
    """Rewrite the report from a run saved with ``--json`` (its own settings)."""
    saved = json.loads(args.render.read_text())
    meta, runs = saved["meta"], saved["runs"]
    sizes = [s for s in SIZES if any(r["size"] == s for r in runs)]
    methods = [m for m in METHODS if any(r["method"] == m for r in runs)]
    n_seeds = len({r["seed"] for r in runs})
    saved_args = argparse.Namespace(sizes=sizes, methods=methods, seeds=n_seeds)
    skipped = [tuple(s) for s in meta.get("skipped", [])]
    meta["notes"] = [*meta.get("notes", []),
                     f"Tables re-rendered from the saved runs (`--render`) on "
                     f"{_dt.datetime.now().strftime('%Y-%m-%d %H:%M')}."]
    text = write_report(args.out, meta, runs, saved_args, skipped)
    print(text)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _csv(allowed):
    def parse(text):
        items = [t.strip() for t in text.split(",") if t.strip()]
        bad = [t for t in items if t not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {bad}; choose from {', '.join(allowed)}")
        return items
    return parse


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=3, help="seeds per cell (default 3)")
    p.add_argument("--sizes", type=_csv(tuple(SIZES)), default=list(SIZES),
                   help="comma-separated subset of: " + ", ".join(SIZES))
    p.add_argument("--methods", type=_csv(METHODS), default=list(METHODS),
                   help="comma-separated subset of: " + ", ".join(METHODS))
    p.add_argument("--max-dense-gb", type=float, default=2.0,
                   help="skip one-hot-dense when its input exceeds this (default 2 GB)")
    p.add_argument("--sklearn-all-seeds-rows", type=int, default=20_000,
                   help="run the sklearn peer on every seed only for tables of at most "
                        "this many rows, on seed 0 above it (default 20000)")
    p.add_argument("--cold", action="store_true", help="skip the warm-up fit")
    p.add_argument("--timeout", type=float, default=900, help="seconds per worker")
    p.add_argument("--out", type=Path,
                   default=REPO / "benchmarks" / "results" / "embeddings.md")
    p.add_argument("--json", type=Path, default=None, help="also save every run here")
    p.add_argument("--render", type=Path, default=None, metavar="JSON",
                   help="do not fit: rewrite the report from runs saved with --json")
    return p.parse_args(argv)


def main(argv=None):
    from benchmarks.run import machine_info, source_fingerprint

    args = parse_args(argv)
    if args.render:
        return render(args)
    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    import skdeep

    package_dir = os.path.dirname(os.path.abspath(skdeep.__file__))
    fingerprint = source_fingerprint(package_dir)
    jobs, skipped = build_jobs(args)
    print(f"{len(jobs)} fits, 1 thread each", file=sys.stderr)
    runs = []
    for i, job in enumerate(jobs, 1):
        t0 = time.perf_counter()
        ok, result = run_job(job, args.timeout)
        runs.append({**job, "ok": ok, **({"metrics": result} if ok else {"error": result})})
        what = (f"R2 {result['score']:.3f}, {result['fit_seconds']:.1f}s, "
                f"{result['epochs']} epochs, {result['peak_mem_mb']:.0f} MB"
                if ok else f"FAILED: {result}")
        print(f"[{i:2d}/{len(jobs)}] {job['size']:<5} seed {job['seed']} "
              f"{job['method']:<23} {what}  ({time.perf_counter() - t0:.0f}s)",
              file=sys.stderr, flush=True)
    notes = []
    if fingerprint != source_fingerprint(package_dir):
        notes.append("**skdeep's source files changed during the run: the fits may "
                     "have measured different code.**")
    if any(not r["ok"] for r in runs):
        notes.append(f"{sum(not r['ok'] for r in runs)} fit(s) failed.")
    meta = dict(
        date=_dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        command="python benchmarks/embeddings.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        machine=machine_info(),
        versions=versions(),
        python=sys.version.split()[0],
        load=(load_start, os.getloadavg()[0]),
        wall_seconds=time.perf_counter() - started,
        notes=notes,
        skipped=skipped,
    )
    text = write_report(args.out, meta, runs, args, skipped)
    if args.json:
        args.json.write_text(json.dumps(dict(meta=meta, runs=runs), indent=1))
    print(text)
    print(f"wrote {args.out}", file=sys.stderr)
    return 1 if any(not r["ok"] for r in runs) else 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        sys.exit(worker_main(sys.argv[2]))
    sys.exit(main())
