"""Tabular fit time side by side: TabularMLP* now, at a baseline commit, and HGB.

Every fit runs in a fresh process (``--worker``), one after the other, so
that the models see the same machine; for each table and split the three
models run back to back, at each thread setting (the libraries' default
threads first: what users get; then one thread). The baseline is the
``skdeep`` package of another commit, checked out with ``git worktree``
into a temporary folder; the benchmark code and the data are this
checkout's for every model. Usage::

    python benchmarks/tabular_speed.py --baseline d594d15            # report half, seed 0
    python benchmarks/tabular_speed.py --baseline d594d15 --half tune --threads default
    python benchmarks/tabular_speed.py --baseline-path /tmp/old --datasets spam7
    python benchmarks/tabular_speed.py --variant n2_e14 --threads default   # other settings

Results go to ``benchmarks/results/tabular-speed.{jsonl,md,rst}`` (or ``--out``):
per table the fit times, the score of each model (on the 20 % test rows of
the split), TabularMLP*'s time over HGB's, and the baseline's time over
TabularMLP*'s (the speed-up); then the median and the largest of each ratio.
``--variant NAME`` fits TabularMLP* with the settings of the tune
benchmark's ``tabular-NAME`` (``benchmarks/tabular.py``) instead of its
defaults, and writes ``results/tabular-speed-NAME.*``; the baseline keeps
its defaults.
Check that the machine is quiet first (the report records the load average
before and after the run).
"""

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks._worker import run_script_worker, set_thread_env  # noqa: E402  (no NumPy import)

RESULTS = REPO / "benchmarks" / "results"
MARKER = "TABULAR_SPEED "
MODELS = ("hgb", "tabular", "baseline")


def _worker(spec):
    """Fit one model on one split in this process; print the record as JSON."""
    threads = spec["threads"]
    set_thread_env(threads)
    from benchmarks.tabular import run_one  # puts this checkout first on sys.path

    if spec.get("skdeep_root"):
        # The baseline's package alone comes first (a folder holding a link to
        # it): the benchmark code stays this checkout's.
        links = tempfile.mkdtemp(prefix="skdeep-baseline-package-")
        os.symlink(Path(spec["skdeep_root"]) / "skdeep", Path(links) / "skdeep")
        sys.path.insert(0, links)
        # An editable install of this checkout maps ``skdeep`` ahead of sys.path.
        sys.meta_path[:] = [finder for finder in sys.meta_path
                            if "editable" not in repr(finder).lower()]

    limit = None if threads == "default" else int(threads)
    record = run_one(spec["dataset"], benchmark_model(spec), spec["seed"], limit)
    import skdeep

    record.update(model=spec["model"], threads=threads, skdeep=str(Path(skdeep.__file__).parent))
    print(MARKER + json.dumps(record), flush=True)


def benchmark_model(spec):
    """The model name of ``benchmarks/tabular.py`` that a worker's ``spec`` fits."""
    if spec["model"] == "baseline":
        return "tabular"  # the baseline's package, at its defaults
    if spec["model"] == "tabular" and spec.get("variant"):
        return f"tabular-{spec['variant']}"
    return spec["model"]


def _run(spec, timeout):
    """One fit in a fresh process; its record (or the error)."""
    return run_script_worker(Path(__file__).resolve(), spec, MARKER, REPO, timeout)


@contextlib.contextmanager
def _baseline_checkout(commit, path):
    """A folder holding the baseline's ``skdeep`` package (a temporary worktree of ``commit``)."""
    if path:
        yield str(Path(path).resolve())
        return
    with tempfile.TemporaryDirectory(prefix="skdeep-baseline-") as folder:
        target = Path(folder) / "checkout"
        subprocess.run(["git", "worktree", "add", "--detach", str(target), commit], cwd=REPO,
                       check=True, capture_output=True)
        try:
            yield str(target)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(target)], cwd=REPO,
                           capture_output=True)


def _ratio_rows(records):
    """Per (dataset, seed, threads): fit times, scores, and the two ratios."""
    by_key = {}
    for record in records:
        if "fit_s" in record:
            key = (record["dataset"], record["seed"], str(record["threads"]))
            by_key.setdefault(key, {})[record["model"]] = record
    rows = []
    for (dataset, seed, threads), models in sorted(by_key.items()):
        if not all(name in models for name in MODELS):
            continue
        times = {name: models[name]["fit_s"] for name in MODELS}
        rows.append({
            "dataset": dataset, "seed": seed, "threads": threads, **{
                f"{name}_s": times[name] for name in MODELS},
            **{f"{name}_score": models[name]["score"] for name in MODELS},
            "over_hgb": times["tabular"] / times["hgb"],
            "speedup": times["baseline"] / times["tabular"],
        })
    return rows


def report(records, meta):
    """Markdown tables: one per thread setting, then the medians and maxima."""
    rows = _ratio_rows(records)
    lines = [f"# Tabular fit time: TabularMLP* against its baseline ({meta['baseline']}) and "
             "HistGradientBoosting*", "",
             *([f"TabularMLP* with {meta['variant']}, not its defaults.", ""]
               if meta.get("variant") else []),
             f"{meta['date']}, {meta['machine']}; load average before {meta['load_before']}, "
             f"after {meta['load_after']}. Fit times in seconds (each fit in a fresh process), "
             "scores on the split's 20 % test rows.", ""]
    for threads in sorted({row["threads"] for row in rows}, key=lambda t: t != "default"):
        subset = [row for row in rows if row["threads"] == threads]
        label = "default threads (what users get)" if threads == "default" else (
            f"{threads} thread(s)")
        lines += [f"## {label}", "",
                  "| dataset | seed | TabularMLP* | baseline | HGB | TabularMLP* / HGB | "
                  "baseline / TabularMLP* | score TabularMLP* | score baseline | score HGB |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for row in subset:
            lines.append(
                f"| {row['dataset']} | {row['seed']} | {row['tabular_s']:.2f} | "
                f"{row['baseline_s']:.2f} | {row['hgb_s']:.2f} | {row['over_hgb']:.1f} | "
                f"{row['speedup']:.2f} | {row['tabular_score']:.4f} | "
                f"{row['baseline_score']:.4f} | {row['hgb_score']:.4f} |")
        over, speedup = (np.array([row[key] for row in subset]) for key in ("over_hgb",
                                                                            "speedup"))
        lines += ["", f"TabularMLP* / HGB: median {np.median(over):.1f}, largest "
                  f"{over.max():.1f}. Speed-up over the baseline: median "
                  f"{np.median(speedup):.2f}, smallest {speedup.min():.2f}.", ""]
    return "\n".join(lines)


def report_rst(records):
    """The default-threads table for the user guide (reStructuredText list-table)."""
    rows = [row for row in _ratio_rows(records) if row["threads"] == "default"]
    lines = [".. list-table::", "   :header-rows: 1", "",
             "   * - table", "     - fit (s)", "     - previous version (s)", "     - HGB (s)",
             "     - speed-up", "     - / HGB", "     - score", "     - previous score",
             "     - HGB score"]
    for row in rows:
        cells = [row["dataset"], f"{row['tabular_s']:.1f}", f"{row['baseline_s']:.1f}",
                 f"{row['hgb_s']:.2f}", f"{row['speedup']:.2f}", f"{row['over_hgb']:.0f}",
                 f"{row['tabular_score']:.4f}", f"{row['baseline_score']:.4f}",
                 f"{row['hgb_score']:.4f}"]
        lines += [f"   * - {cells[0]}"] + [f"     - {cell}" for cell in cells[1:]]
    over = np.array([row["over_hgb"] for row in rows])
    speedup = np.array([row["speedup"] for row in rows])
    lines += ["", f"Median speed-up {np.median(speedup):.2f} (smallest {speedup.min():.2f}); "
              f"fit time over HGB's: median {np.median(over):.0f}, largest {over.max():.0f}.",
              ""]
    return "\n".join(lines)


def _load():
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", default="d594d15", help="commit of the baseline")
    parser.add_argument("--baseline-path", default=None,
                        help="a checkout of the baseline instead of a temporary worktree")
    parser.add_argument("--half", choices=["tune", "report", "all"], default="report")
    parser.add_argument("--datasets", default=None, help="comma-separated names")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--threads", default="default,1",
                        help="comma-separated settings, 'default' and/or counts")
    parser.add_argument("--timeout", type=int, default=1800)
    parser.add_argument("--variant", default=None,
                        help="fit TabularMLP* as benchmarks/tabular.py's tabular-VARIANT")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(json.loads(args.worker))
        return
    from benchmarks.tabular import VARIANTS
    from benchmarks.tabular_datasets import list_datasets

    if args.variant and args.variant not in VARIANTS:
        parser.error(f"--variant {args.variant!r} is none of {', '.join(VARIANTS)}")
    datasets = (args.datasets.split(",") if args.datasets else
                [s.name for s in list_datasets(half=None if args.half == "all" else args.half)])
    name = f"tabular-speed-{args.variant}" if args.variant else "tabular-speed"
    out = Path(args.out) if args.out else RESULTS / f"{name}.jsonl"
    meta = {"baseline": args.baseline_path or args.baseline,
            "variant": args.variant and f"{args.variant} ({VARIANTS[args.variant]})",
            "date": time.strftime("%Y-%m-%d %H:%M"), "load_before": _load(),
            "machine": f"{os.cpu_count()} cores"}
    records = []
    with _baseline_checkout(args.baseline, args.baseline_path) as baseline_root, \
            out.open("w") as handle:
        for seed in [int(s) for s in args.seeds.split(",")]:
            for dataset in datasets:
                for threads in args.threads.split(","):
                    for model in MODELS:
                        spec = {"dataset": dataset, "model": model, "seed": seed,
                                "threads": threads, "variant": args.variant,
                                "skdeep_root": baseline_root if model == "baseline" else None}
                        record = _run(spec, args.timeout)
                        records.append(record)
                        handle.write(json.dumps(record) + "\n")
                        handle.flush()
                        print(record, flush=True)
    meta["load_after"] = _load()
    markdown = report(records, meta)
    out.with_suffix(".md").write_text(markdown)
    # The guide includes the defaults' table only.
    if not args.variant and any(str(record.get("threads")) == "default" for record in records):
        out.with_suffix(".rst").write_text(report_rst(records))
    print(markdown)


if __name__ == "__main__":
    main()
