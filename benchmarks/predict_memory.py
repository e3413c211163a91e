#!/usr/bin/env python
"""Memory and throughput of a large ``predict_proba`` on the clf-wide model.

Fits the clf-wide network (100 features, hidden (512, 512), 10 classes; one
epoch on 50,000 rows, since only the shapes matter here), then predicts
``--rows`` float64 rows (default 5,000,000: a 4 GB input) and reports

- the peak memory above the input, measured twice: by ``tracemalloc``
  (NumPy registers its array buffers with it, so this is the arrays the
  prediction allocated) and by the kernel's resident-set high-water mark
  (``VmHWM``, or psutil sampling where it cannot be reset; everything the
  process touched, BLAS work buffers and allocator slack included);
- the theoretical need of an unchunked pass (rows x widest layer x 8 bytes
  x 2, two layer outputs alive at once);
- rows/s on all rows, and on ``--throughput-rows`` rows (default 100,000)
  with the default ``working_memory``, a small one (many chunks) and chunking
  effectively disabled, so the report shows what chunking costs;
- the same peak for scikit-learn's ``MLPClassifier``, on every row if its
  unchunked pass fits in ``--sklearn-max-gb``, otherwise on the largest
  multiple of 100,000 rows that does (the report says so).

Run from the repository root::

    python benchmarks/predict_memory.py                  # 5,000,000 rows
    python benchmarks/predict_memory.py --quick          # 200,000 rows, 5,000-row fit
    python benchmarks/predict_memory.py --rows 1000000 --threads 1

``run.py`` calls it in a fresh process; results go to
``<out-dir>/predict-memory.{json,md}``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._worker import DEFAULT_THREADS, MARKER, set_thread_env, thread_limits

N_FEATURES = 100
N_CLASSES = 10
HIDDEN = (512, 512)
FIT_ROWS = 50_000
QUICK_FIT_ROWS = 5_000
REPEATS = 5
QUICK_REPEATS = 2
DEFAULT_ROWS = 5_000_000
QUICK_ROWS = 200_000
THROUGHPUT_ROWS = 100_000
# A working_memory (MiB) so large that no prediction is ever split.
UNCHUNKED_MIB = 2**40
# A small budget: clf-wide then predicts in chunks of 8,192 rows.
SMALL_MIB = 64
SKLEARN_MAX_GB = 8.0
ROW_STEP = 100_000
ITEMSIZE = 8  # float64


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=None,
                   help=f"rows to predict (default {DEFAULT_ROWS:,}; {QUICK_ROWS:,} with --quick)")
    p.add_argument("--throughput-rows", type=int, default=THROUGHPUT_ROWS,
                   help="rows of the chunked-versus-unchunked throughput comparison")
    p.add_argument("--fit-rows", type=int, default=None,
                   help=f"rows of the one-epoch fit that builds the model (default "
                        f"{FIT_ROWS:,}; {QUICK_FIT_ROWS:,} with --quick)")
    p.add_argument("--repeats", type=int, default=None,
                   help=f"timed calls per throughput setting, median reported (default "
                        f"{REPEATS}; {QUICK_REPEATS} with --quick)")
    p.add_argument("--sklearn-max-gb", type=float, default=SKLEARN_MAX_GB,
                   help="largest unchunked need (GB) scikit-learn's predict may have")
    p.add_argument("--threads", default=DEFAULT_THREADS,
                   help="BLAS/OpenMP threads, or 'default' (no limit)")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke run: {QUICK_ROWS:,} rows, smaller fit, fewer repeats")
    p.add_argument("--impl-skdeep-fallback", action="store_true",
                   help="use scikit-learn's class for the skdeep rows (harness tests)")
    p.add_argument("--out-dir", type=Path, default=None,
                   help="output folder (default benchmarks/results[/quick])")
    p.add_argument("--no-write", action="store_true",
                   help="print the result line only (used by run.py)")
    args = p.parse_args(argv)
    if args.rows is None:
        args.rows = QUICK_ROWS if args.quick else DEFAULT_ROWS
    if args.fit_rows is None:
        args.fit_rows = QUICK_FIT_ROWS if args.quick else FIT_ROWS
    if args.repeats is None:
        args.repeats = QUICK_REPEATS if args.quick else REPEATS
    if args.out_dir is None:
        args.out_dir = REPO / "benchmarks" / "results" / ("quick" if args.quick else "")
    return args


# --------------------------------------------------------------------------
# arithmetic
# --------------------------------------------------------------------------
def unchunked_need_bytes(rows: int, widths=HIDDEN, itemsize: int = ITEMSIZE) -> int:
    """Bytes an unchunked forward pass holds at once: two widest outputs.

    A dense layer's output is allocated while its input (the previous
    layer's output) is still alive, so about twice the widest layer.

    Parameters
    ----------
    rows : int
        Rows predicted at once.
    widths : sequence of int
        Hidden layer widths.
    itemsize : int
        Bytes per number.

    Returns
    -------
    int
    """
    return rows * max(widths) * itemsize * 2


def sklearn_rows(rows: int, max_gb: float, widths=HIDDEN, step: int = ROW_STEP) -> int:
    """Rows to give scikit-learn's (unchunked) predict within ``max_gb``.

    All ``rows`` when their unchunked need fits, else the largest multiple of
    ``step`` that does (0 when not even ``step`` rows fit).
    """
    per_row = unchunked_need_bytes(1, widths)
    fitting = int(max_gb * 1e9 // per_row)
    if fitting >= rows:
        return rows
    return (fitting // step) * step


# --------------------------------------------------------------------------
# measurements
# --------------------------------------------------------------------------
def fit_model(impl: str, fit_rows: int, fallback: bool = False):
    """The clf-wide classifier of ``impl`` after one epoch on ``fit_rows`` rows."""
    import warnings

    from sklearn.datasets import make_classification
    from sklearn.exceptions import ConvergenceWarning

    if impl == "skdeep" and not fallback:
        from skdeep import MLPClassifier
    else:
        from sklearn.neural_network import MLPClassifier
    X, y = make_classification(n_samples=fit_rows, n_features=N_FEATURES, n_informative=40,
                               n_classes=N_CLASSES, random_state=0)
    model = MLPClassifier(hidden_layer_sizes=HIDDEN, batch_size=256, max_iter=1,
                          random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def make_rows(rows: int, seed: int = 1):
    """``rows`` x 100 standard-normal float64 rows, generated in place (no copy)."""
    import numpy as np

    return np.random.default_rng(seed).standard_normal((rows, N_FEATURES))


def traced_peak(fn):
    """``(seconds, peak bytes)`` of ``fn()`` as seen by ``tracemalloc``.

    Tracing starts after the input exists, so the peak is what the call
    allocated above it (its output included).
    """
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        t0 = time.perf_counter()
        fn()
        seconds = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return seconds, peak


def rss_peak(fn):
    """``(seconds, peak bytes above the RSS before, method)`` of ``fn()``."""
    from benchmarks._memory import PeakRSS

    with PeakRSS() as mem:
        t0 = time.perf_counter()
        fn()
        seconds = time.perf_counter() - t0
    return seconds, int(mem.peak_mb * 2**20), mem.method


def throughput(model, X, settings: dict, repeats: int) -> dict:
    """Median rows/s of ``model.predict_proba(X)`` under each ``working_memory``.

    The settings are interleaved so that all see the same machine state, in
    an order that rotates every round, and every timed call comes right
    after an untimed call of the same setting: a call right after one with
    another chunk size ran up to 2.6x slower here (presumably its large
    buffers needing fresh pages), which is not what repeated predictions see.
    """
    from sklearn import config_context

    times = {name: [] for name in settings}
    names = list(settings)
    for rep in range(repeats):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            with config_context(working_memory=settings[name]):
                model.predict_proba(X)
                t0 = time.perf_counter()
                model.predict_proba(X)
                times[name].append(time.perf_counter() - t0)
    return {name: len(X) / statistics.median(ts) for name, ts in times.items()}


def chunk_rows(model, mib) -> int:
    """Rows per prediction chunk of a skdeep ``model`` under ``working_memory=mib``."""
    from sklearn import config_context

    from skdeep._engine.network import forward_row_bytes
    from skdeep._options import max_predict_rows

    with config_context(working_memory=mib):
        return max_predict_rows(forward_row_bytes(model.coefs_, model.coefs_[0].dtype))


def working_memory_settings(chunked: bool) -> dict:
    """The ``working_memory`` values (MiB) the throughput is compared under.

    scikit-learn's MLP ignores the setting, so it only gets the default.
    """
    from sklearn import get_config

    settings = {"default": get_config()["working_memory"]}
    if chunked:
        settings.update({f"{SMALL_MIB} MiB": SMALL_MIB, "unchunked": UNCHUNKED_MIB})
    return settings


def measure_peer(model, X, throughput_rows: int, repeats: int, chunked: bool) -> dict:
    """Peak memory (both methods), rows/s on ``X`` and on ``throughput_rows``.

    ``chunked`` says whether ``model`` is skdeep's (predicts in row chunks).
    """
    seconds, rss, method = rss_peak(lambda: model.predict_proba(X))
    _, traced = traced_peak(lambda: model.predict_proba(X))
    settings = working_memory_settings(chunked)
    small = X[:throughput_rows]
    return {"rows": len(X), "seconds": seconds, "rows_per_sec": len(X) / seconds,
            "peak_rss_bytes": rss, "rss_method": method, "peak_traced_bytes": traced,
            "output_bytes": len(X) * N_CLASSES * ITEMSIZE,
            "throughput_rows": len(small), "working_memory_mib": settings,
            "chunk_rows": ({k: chunk_rows(model, v) for k, v in settings.items()}
                           if chunked else {}),
            "rows_per_sec_at": throughput(model, small, settings, repeats)}


def measure(args) -> dict:
    """Every number of the report, as one dict."""
    import gc

    X = make_rows(args.rows)
    result = {"rows": args.rows, "input_bytes": X.nbytes,
              "unchunked_need_bytes": unchunked_need_bytes(args.rows),
              "fit_rows": args.fit_rows, "hidden": list(HIDDEN), "n_features": N_FEATURES,
              "n_classes": N_CLASSES, "fallback": args.impl_skdeep_fallback}
    skdeep_model = fit_model("skdeep", args.fit_rows, args.impl_skdeep_fallback)
    result["skdeep"] = measure_peer(skdeep_model, X, args.throughput_rows, args.repeats,
                                    chunked=not args.impl_skdeep_fallback)
    del skdeep_model
    gc.collect()
    n_sklearn = sklearn_rows(args.rows, args.sklearn_max_gb)
    result["sklearn_max_gb"] = args.sklearn_max_gb
    result["sklearn_need_all_rows_bytes"] = unchunked_need_bytes(args.rows)
    if n_sklearn:
        sk_model = fit_model("sklearn", args.fit_rows)
        result["sklearn"] = measure_peer(sk_model, X[:n_sklearn],
                                         min(args.throughput_rows, n_sklearn), args.repeats,
                                         chunked=False)
    else:
        result["sklearn"] = None
    return result


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------
def _gb(nbytes) -> str:
    return "–" if nbytes is None else f"{nbytes / 1e9:.2f} GB"


def _rate(value) -> str:
    return "–" if value is None else f"{value:,.0f}"


def peer_row(label: str, peer: dict) -> str:
    """Markdown table row (memory and speed) of one measured estimator."""
    at = peer["rows_per_sec_at"]
    cells = [label, f"{peer['rows']:,}", _gb(peer["peak_traced_bytes"]),
             _gb(peer["peak_rss_bytes"]), _gb(peer["output_bytes"]),
             _rate(peer["rows_per_sec"]), _rate(at.get("default")),
             _rate(at.get(f"{SMALL_MIB} MiB")), _rate(at.get("unchunked"))]
    return "| " + " | ".join(cells) + " |"


def table_head(throughput_rows: int) -> list[str]:
    """Header and rule of the results table."""
    columns = ["estimator", "rows", "peak above input (tracemalloc)",
               "peak RSS above input", "of which output", "rows/s (all rows)",
               f"rows/s, {throughput_rows:,} rows: default working_memory",
               f"{SMALL_MIB} MiB", "unchunked"]
    return ["| " + " | ".join(columns) + " |", "|---|" + "---:|" * (len(columns) - 1)]


def sklearn_note(result: dict) -> str:
    """Which rows scikit-learn was measured on, and why."""
    sk = result.get("sklearn")
    need = _gb(result["sklearn_need_all_rows_bytes"])
    if sk is None:
        return (f"scikit-learn not measured: even {ROW_STEP:,} rows exceed the "
                f"{result['sklearn_max_gb']:g} GB budget.")
    if sk["rows"] < result["rows"]:
        return (f"scikit-learn predicts without chunks: all {result['rows']:,} rows "
                f"would need about {need}, above the {result['sklearn_max_gb']:g} GB "
                f"budget (`--sklearn-max-gb`), so it was measured on the first "
                f"{sk['rows']:,} rows only.")
    return f"scikit-learn was measured on the same {sk['rows']:,} rows (about {need} unchunked)."


def model_line(result: dict) -> str:
    """What was fitted and predicted, and what an unchunked pass would hold."""
    return (f"Model: clf-wide, {result['n_features']} features, hidden "
            f"{tuple(result['hidden'])}, {result['n_classes']} classes, fitted for one "
            f"epoch on {result['fit_rows']:,} rows. Input: {result['rows']:,} float64 rows "
            f"({_gb(result['input_bytes'])}). An unchunked pass would hold about "
            f"{_gb(result['unchunked_need_bytes'])} (rows x {max(result['hidden'])} x "
            "8 bytes x 2).")


def method_notes(meta: dict, skdeep: dict) -> list[str]:
    """How the peaks and the throughputs were measured."""
    chunks = skdeep["chunk_rows"]
    notes = [
        ("tracemalloc: peak of the Python and NumPy allocations during one "
         "`predict_proba`, traced from just before the call (the input is not "
         "counted, the returned probabilities are)."),
        (f"RSS: the kernel's high-water mark (`{skdeep['rss_method']}`) during another "
         "call, minus the RSS just before it: everything the process touched, BLAS "
         "buffers and allocator slack included."),
    ]
    if chunks:
        notes.append(
            f"skdeep's chunks: {_rate(chunks.get('default'))} rows with the default "
            f"working_memory ({skdeep['working_memory_mib']['default']} MiB), "
            f"{_rate(chunks.get(f'{SMALL_MIB} MiB'))} rows with {SMALL_MIB} MiB; "
            "'unchunked' sets working_memory=2**40 MiB.")
    notes.append(f"Throughput: median of {meta['repeats']} timed calls per setting, "
                 "the settings interleaved in a rotating order, each timed call right "
                 "after an untimed one of the same setting.")
    return notes


def render_markdown(meta: dict, result: dict) -> str:
    """The Markdown report of one measurement."""
    sk = result["skdeep"]
    notes = method_notes(meta, sk) + [sklearn_note(result)]
    if result.get("fallback"):
        notes.append("**FALLBACK RUN: the 'skdeep' row is scikit-learn's class "
                     "(harness test).**")
    lines = [
        f"Run {meta['date']} on {meta['machine']}; {meta['threads_phrase']}.",
        f"Command: `{meta['command']}` ({meta['wall_seconds']:.0f} s).",
        *load_line(meta),
        "",
        model_line(result),
        "",
        *table_head(sk["throughput_rows"]),
        peer_row("skdeep", sk),
        *([peer_row("scikit-learn", result["sklearn"])] if result.get("sklearn") else []),
        "",
        *(f"- {note}" for note in notes),
    ]
    return "\n".join(lines) + "\n"


def run_meta(args, wall_seconds: float) -> dict:
    """Date, machine, command and thread setting of this run."""
    import platform

    from benchmarks.run import machine_info

    machine = machine_info()
    argv = sys.argv[1:] if args.argv is None else args.argv
    threads = ("library-default threads" if args.threads == DEFAULT_THREADS
               else f"{args.threads} BLAS thread(s)")
    described = (f"{machine['cpu_model']} ({machine['cores']} cores, {_memory_gib()} GiB "
                 f"RAM, {platform.python_implementation()} {platform.python_version()})")
    return {"date": _dt.date.today().isoformat(), "machine": described,
            "command": "python benchmarks/predict_memory.py " + " ".join(argv),
            "threads": args.threads, "threads_phrase": threads, "repeats": args.repeats,
            "wall_seconds": round(wall_seconds, 1)}


def load_average():
    """The 1, 5 and 15-minute load averages (``None`` where unavailable)."""
    import os

    return [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None


def load_line(meta: dict) -> list[str]:
    """The machine load of the run, when it was recorded (a rows/s caveat)."""
    loads = meta.get("load_averages") or {}
    if not loads.get("start") or not loads.get("end"):
        return []
    start, end = ("/".join(f"{v:.2f}" for v in loads[k]) for k in ("start", "end"))
    return [f"Load average (1/5/15 min): {start} at the start, {end} at the end."]


def _memory_gib() -> str:
    try:
        import psutil

        return f"{psutil.virtual_memory().total / 2**30:.0f}"
    except ImportError:
        return "?"


def write_outputs(meta: dict, result: dict, out_dir: Path) -> str:
    """Write ``predict-memory.{json,md}`` to ``out_dir``; return the Markdown."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown = render_markdown(meta, result)
    (out_dir / "predict-memory.json").write_text(json.dumps({"meta": meta, "result": result},
                                                            indent=1))
    (out_dir / "predict-memory.md").write_text("# Memory of a large predict\n\n" + markdown)
    return markdown


def main(argv=None) -> int:
    """Measure, then print the result line and (unless ``--no-write``) write the report."""
    args = parse_args(argv)
    args.argv = argv
    # Thread variables must be set before NumPy is first imported.
    set_thread_env(args.threads)
    started, load_before = time.perf_counter(), load_average()
    with thread_limits(args.threads):
        result = measure(args)
    meta = run_meta(args, time.perf_counter() - started)
    meta["load_averages"] = {"start": load_before, "end": load_average()}
    sys.stdout.write(MARKER + json.dumps({"meta": meta, "result": result}) + "\n")
    if not args.no_write:
        print(write_outputs(meta, result, args.out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
