#!/usr/bin/env python
"""Run the skdeep benchmark suite.

Every (repeat, workload, dtype, peer) measurement runs in a fresh Python
process (``benchmarks/_worker.py``) with the BLAS / OpenMP / PyTorch thread
count pinned.  By default (``--threads both``) every measurement runs twice,
with one thread and with the libraries' default threads, the two settings
alternating job by job so that both see the same machine state; the medians
of both go to ``benchmarks/results/latest.{json,md}`` (default threads first)
plus ``ratios.png`` and ``ratios-1-thread.png``.  A single thread setting
writes ``threads-1.{json,md}`` (``--threads 1``), ``threads.{json,md}``
(``--threads default``) or ``threads-N.{json,md}`` (``--threads N``), so it
never overwrites the reference run.  The ``predict-memory`` workload runs
``predict_memory.py`` once (memory of a 5,000,000-row ``predict_proba``).

Examples (from the repository root)::

    python benchmarks/run.py                      # full suite, 3 repeats, both settings
    python benchmarks/run.py --quick              # smoke run
    python benchmarks/run.py --threads 1          # one thread only
    python benchmarks/run.py --threads default    # library-default threads only
    python benchmarks/run.py --workloads clf-small,clf-wide --dtypes float32
    python benchmarks/run.py --impl-skdeep-fallback   # harness test without skdeep
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import report  # noqa: E402
from benchmarks._worker import DEFAULT_THREADS, MARKER, parse_threads, set_thread_env  # noqa: E402

TIMED_WORKLOADS = ("clf-small", "clf-wide", "reg-deep", "clf-tiny-batch",
                   "lbfgs-small", "predict-latency")
PREDICT_MEMORY = "predict-memory"  # predict_memory.py, not a per-peer workload
ALL_WORKLOADS = (*TIMED_WORKLOADS, PREDICT_MEMORY)
BOTH = report.BOTH
ALL_DTYPES = ("float64", "float32")
ALL_PEERS = ("skdeep", "sklearn", "torch", "gemm_floor")
LBFGS_WORKLOADS = ("lbfgs-small",)
FALLBACK_ENV = "SKDEEP_BENCH_FALLBACK"


def _csv(allowed):
    """argparse type: comma-separated subset of ``allowed``."""
    def parse(text):
        items = [t.strip() for t in text.split(",") if t.strip()]
        bad = [t for t in items if t not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(
                f"unknown {bad}; choose from {', '.join(allowed)}")
        return items
    return parse


def _threads(text):
    """argparse type: a positive thread count, ``"default"`` or ``"both"``."""
    if text in (DEFAULT_THREADS, BOTH):
        return text
    try:
        return parse_threads(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, {DEFAULT_THREADS!r} or {BOTH!r}, "
            f"got {text!r}") from None


def thread_settings(threads) -> list:
    """The worker thread settings a run measures, in report order.

    ``"both"`` means one thread and the libraries' defaults; any other value
    is measured alone.
    """
    return [DEFAULT_THREADS, 1] if threads == BOTH else [threads]


def report_stem(threads) -> str:
    """Base name of the report files for a thread setting.

    ``latest`` for the reference run holding both settings, ``threads`` for
    the libraries' default thread counts alone and ``threads-N`` for ``N``
    threads (``threads-1`` for one thread).
    """
    if threads == BOTH:
        return "latest"
    return "threads" if threads == DEFAULT_THREADS else f"threads-{threads}"


def effective_threads(threads) -> int:
    """Cores a run may keep busy: ``threads``, or every core for "default"/"both"."""
    if threads in (DEFAULT_THREADS, BOTH):
        return os.cpu_count() or 1
    return threads


def load_average():
    """The 1, 5 and 15-minute load averages (``None`` where unavailable)."""
    if not hasattr(os, "getloadavg"):
        return None
    return [round(v, 2) for v in os.getloadavg()]


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=None,
                   help="fresh-process repeats per measurement (default 3; 1 with --quick)")
    p.add_argument("--workloads", type=_csv(ALL_WORKLOADS), default=list(ALL_WORKLOADS),
                   help="comma-separated subset of: " + ", ".join(ALL_WORKLOADS))
    p.add_argument("--dtypes", type=_csv(ALL_DTYPES), default=list(ALL_DTYPES),
                   help="comma-separated subset of: float64, float32")
    p.add_argument("--peers", type=_csv(ALL_PEERS), default=list(ALL_PEERS),
                   help="comma-separated subset of: " + ", ".join(ALL_PEERS))
    p.add_argument("--threads", type=_threads, default=BOTH,
                   help="BLAS/OpenMP/torch threads in every worker: 'both' (default: "
                        "one thread and each library's own default, alternating job "
                        "by job, into latest.{json,md}), 'default' (no limit) or a "
                        "count N; a single setting writes threads[-N].{json,md}")
    p.add_argument("--predict-memory-rows", type=int, default=None,
                   help="rows of the predict-memory workload (default "
                        "5,000,000; 200,000 with --quick)")
    p.add_argument("--predict-memory-timeout", type=float, default=3600,
                   help="seconds before the predict-memory process is killed (default 3600)")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: shrunken data and epochs, results in results/quick/")
    p.add_argument("--cold", action="store_true",
                   help="skip the untimed warm-up fit in each worker")
    p.add_argument("--impl-skdeep-fallback", action="store_true",
                   default=os.environ.get(FALLBACK_ENV) == "1",
                   help=f"use sklearn's classes for the skdeep peer (harness testing "
                        f"only; also env {FALLBACK_ENV}=1)")
    p.add_argument("--timeout", type=float, default=900,
                   help="seconds before a worker is killed (default 900)")
    p.add_argument("--out-dir", type=Path, default=None,
                   help="output folder (default benchmarks/results[/quick])")
    args = p.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.out_dir is None:
        args.out_dir = REPO / "benchmarks" / "results" / ("quick" if args.quick else "")
    if args.predict_memory_rows is None:
        from benchmarks.predict_memory import DEFAULT_ROWS, QUICK_ROWS

        args.predict_memory_rows = QUICK_ROWS if args.quick else DEFAULT_ROWS
    return args


# --------------------------------------------------------------------------
# workers
# --------------------------------------------------------------------------
def worker_env(threads) -> dict:
    """Environment of a worker: thread variables applied, repo on PYTHONPATH.

    The variables are pinned to ``threads``, or removed for ``"default"``.
    """
    env = dict(os.environ)
    set_thread_env(threads, env)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.pop(FALLBACK_ENV, None)  # the spec carries the choice explicitly
    return env


def run_worker(spec: dict, timeout: float) -> tuple[bool, dict | str]:
    """Run one worker; return ``(True, result)`` or ``(False, error text)``."""
    cmd = [sys.executable, "-m", "benchmarks._worker", json.dumps(spec)]
    try:
        proc = subprocess.run(cmd, cwd=REPO, env=worker_env(spec["threads"]),
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f"timeout after {timeout:.0f}s"
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER):
            return True, json.loads(line[len(MARKER):])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return False, f"exit {proc.returncode}: {tail}"


def machine_info() -> dict:
    """CPU model and core count of this machine."""
    model = platform.processor() or "unknown CPU"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return dict(cpu_model=model, cores=os.cpu_count(), platform=platform.platform())


def check_environment(args) -> tuple[dict, list[str], list[str]]:
    """Probe versions in a limited worker; return (env, peers to run, notes).

    Every thread setting of the run is probed (their BLAS pools differ); the
    returned env is the first setting's, with the others' pool descriptions
    under ``threadpool_info_by_threads``.
    """
    envs = {}
    for threads in thread_settings(args.threads):
        ok, probed = run_worker(dict(peer="env", threads=threads,
                                     skdeep_fallback=args.impl_skdeep_fallback), 120)
        if not ok:
            sys.exit(f"environment probe failed: {probed}")
        envs[report.setting_key(threads)] = probed
    env = dict(next(iter(envs.values())))
    if len(envs) > 1:
        env["threadpool_info_by_threads"] = {k: e["threadpool_info"] for k, e in envs.items()}
    peers, notes = list(args.peers), []
    if "skdeep" in peers and str(env["skdeep"]).startswith("not importable"):
        sys.exit(f"skdeep is {env['skdeep']}.\nInstall it (pip install -e .) or "
                 f"test the harness with --impl-skdeep-fallback.")
    if args.impl_skdeep_fallback:
        notes.append("**FALLBACK RUN: the 'skdeep' rows are scikit-learn's "
                     "classes (harness test), not skdeep.**")
    if "torch" in peers and env.get("torch") is None:
        peers.remove("torch")
        notes.append("PyTorch peer skipped: torch is not installed "
                     "(`pip install torch==2.13.0`).")
    return env, peers, notes


def workload_notes(workloads, quick=False) -> list[str]:
    """Explanations printed under the ratio table for special workloads."""
    from benchmarks.peers import LATENCY_WARMUP
    from benchmarks.workloads import WORKLOADS, quick_variant

    latency = WORKLOADS["predict-latency"]
    calls = (quick_variant(latency) if quick else latency).latency_calls
    lbfgs_iters = (quick_variant if quick else (lambda w: w))(
        WORKLOADS["lbfgs-small"]).epochs
    notes = []
    if "lbfgs-small" in workloads:
        notes.append(
            "lbfgs-small: time per L-BFGS iteration. skdeep/sklearn run scipy's "
            f"L-BFGS-B (max_iter={lbfgs_iters}, tol=0; scipy's ftol may stop it earlier); "
            "PyTorch runs torch.optim.LBFGS (strong Wolfe, history 10), a "
            "different algorithm. The GEMM floor is one full-batch "
            "forward+backward, scaled by skdeep's function evaluations per "
            "iteration.")
    if "predict-latency" in workloads:
        notes.append(
            f"predict-latency: median µs of one-row `predict_proba` over {calls} "
            f"calls after {LATENCY_WARMUP} warm-up calls, on a fitted clf-small model; PyTorch "
            "= numpy→tensor, model(x), softmax, →numpy under no_grad; GEMM "
            "floor = the raw per-layer matmuls only. Its 'samples/s' column is "
            "calls per second.")
    notes.append("GEMM floor: only the matrix products of each mini-batch "
                 "(forward X@W, backward delta@W.T except the first layer, "
                 "A.T@delta), NumPy with preallocated outputs, same dtype and "
                 "threads; it has no loss or score.")
    return notes


# --------------------------------------------------------------------------
# main loop
# --------------------------------------------------------------------------
def build_jobs(args, peers) -> list[dict]:
    """All worker specs, repeats outermost and peer order rotated per repeat.

    With both thread settings, each (workload, dtype, peer) runs under both
    back to back, and which goes first alternates from one pair to the next,
    so slow drifts of the machine hit both settings alike.
    """
    settings = thread_settings(args.threads)
    timed = [wl for wl in args.workloads if wl in TIMED_WORKLOADS]
    jobs = []
    for rep in range(args.repeats):
        order = peers[rep % len(peers):] + peers[:rep % len(peers)]
        for wl in timed:
            for dtype in args.dtypes:
                for peer in order:
                    pair = len(jobs) // len(settings)
                    for threads in settings if pair % 2 == 0 else settings[::-1]:
                        jobs.append(dict(workload=wl, dtype=dtype, peer=peer,
                                         threads=threads, repeat=rep,
                                         quick=args.quick, warmup=not args.cold,
                                         skdeep_fallback=args.impl_skdeep_fallback))
    return jobs


def _progress(i, n, job, ok, result, seconds):
    if ok:
        t = result.get("us_per_call")
        what = (f"{t:.1f} us/call" if t is not None
                else f"{result['sec_per_epoch']:.4f} s/epoch")
    else:
        what = "FAILED: " + result
    print(f"[{i:3d}/{n}] rep {job['repeat']} {job['workload']:<15} {job['dtype']:<7} "
          f"{job['peer']:<10} threads {job['threads']!s:<7} {what}  ({seconds:.1f}s)",
          file=sys.stderr, flush=True)


def run_jobs(jobs, timeout) -> list[dict]:
    """Run every job in its own worker process; return the run records."""
    runs = []
    for i, job in enumerate(jobs, 1):
        t0 = time.perf_counter()
        ok, result = run_worker(job, timeout)
        _progress(i, len(jobs), job, ok, result, time.perf_counter() - t0)
        record = {k: job[k] for k in ("workload", "dtype", "peer", "repeat", "threads")}
        record.update(ok=ok, **({"metrics": result} if ok else {"error": result}))
        runs.append(record)
    return runs


def predict_memory_threads(threads):
    """Thread setting of the predict-memory measurement: the default for "both"."""
    return DEFAULT_THREADS if threads == BOTH else threads


def run_predict_memory(args) -> tuple[dict | None, str | None]:
    """Run ``predict_memory.py`` in a fresh process; return (result, error).

    It writes its own ``predict-memory.{json,md}`` into the run's output
    folder; the parsed result (with its Markdown) goes into the run's report.
    """
    threads = predict_memory_threads(args.threads)
    cmd = [sys.executable, str(REPO / "benchmarks" / "predict_memory.py"),
           "--rows", str(args.predict_memory_rows), "--threads", str(threads),
           "--out-dir", str(args.out_dir)]
    cmd += ["--quick"] * args.quick + ["--impl-skdeep-fallback"] * args.impl_skdeep_fallback
    print(f"predict-memory: {args.predict_memory_rows:,} rows, threads {threads}",
          file=sys.stderr, flush=True)
    try:
        proc = subprocess.run(cmd, cwd=REPO, env=worker_env(threads), capture_output=True,
                              text=True, timeout=args.predict_memory_timeout, check=False)
    except subprocess.TimeoutExpired:
        return None, f"timeout after {args.predict_memory_timeout:.0f}s"
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER):
            from benchmarks.predict_memory import render_markdown

            measured = json.loads(line[len(MARKER):])
            measured["markdown"] = render_markdown(measured["meta"], measured["result"])
            return measured, None
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return None, f"exit {proc.returncode}: {tail}"


def source_fingerprint(package_dir) -> str | None:
    """Short hash of every ``.py`` file under ``package_dir`` (or ``None``).

    Compared before and after the run to detect skdeep being edited while it
    was measured.
    """
    if not package_dir or not Path(package_dir).is_dir():
        return None
    digest = hashlib.sha1()
    for path in sorted(Path(package_dir).rglob("*.py")):
        digest.update(str(path.relative_to(package_dir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def prepare_data(args, cache_dir: str) -> None:
    """Generate every workload's data once; workers load it from ``cache_dir``."""
    from benchmarks.workloads import WORKLOADS, quick_variant, write_cache

    for name in (wl for wl in args.workloads if wl in TIMED_WORKLOADS):
        wl = quick_variant(WORKLOADS[name]) if args.quick else WORKLOADS[name]
        for dtype in args.dtypes:
            write_cache(cache_dir, wl, dtype, args.quick)


def main(argv=None) -> int:
    """Run the suite and write the reports."""
    args = parse_args(argv)
    started = time.perf_counter()
    load_before = load_average()
    env, peers, notes = check_environment(args)
    fingerprint = source_fingerprint(env.get("skdeep_path"))
    jobs = build_jobs(args, peers)
    print(f"{len(jobs)} measurements, threads {args.threads}, "
          f"{args.repeats} repeat(s), load average {load_before}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="skdeep-bench-") as cache_dir:
        prepare_data(args, cache_dir)
        for job in jobs:
            job["cache_dir"] = cache_dir
        runs = run_jobs(jobs, args.timeout)
    predict_memory, memory_error = (run_predict_memory(args) if PREDICT_MEMORY in args.workloads
                                    else (None, None))
    load_after = load_average()
    if fingerprint != source_fingerprint(env.get("skdeep_path")):
        notes.append("**skdeep's source files changed during the run: the "
                     "repeats may have measured different code.**")
    if load_before is not None and load_before[0] > 0.5 + effective_threads(args.threads):
        notes.append(f"The machine was busy when the run started (1-min load "
                     f"average {load_before[0]:.1f}); timings may be noisy.")
    stem = report_stem(args.threads)
    failures = [r for r in runs if not r["ok"]]
    if failures:
        notes.append(f"{len(failures)} measurement(s) failed; see {stem}.json.")
    if memory_error:
        notes.append(f"The predict-memory measurement failed: {memory_error}.")
    meta = dict(
        date=_dt.date.today().isoformat(),
        command="python benchmarks/run.py " + " ".join(sys.argv[1:] if argv is None else argv),
        machine=machine_info(), env=env, threads=args.threads,
        repeats=args.repeats, quick=args.quick, warmup=not args.cold,
        skdeep_fallback=args.impl_skdeep_fallback, workloads=args.workloads,
        dtypes=args.dtypes, peers=peers, lbfgs_workloads=list(LBFGS_WORKLOADS),
        notes=notes + workload_notes(args.workloads, args.quick),
        wall_seconds=round(time.perf_counter() - started, 1),
        load_averages=dict(start=load_before, end=load_after),
        skdeep_source_sha1=fingerprint, predict_memory=predict_memory,
    )
    print(report.write_outputs(meta, runs, args.out_dir, stem))
    names = ", ".join(p.name for p in report.output_paths(args.out_dir, stem).values())
    print(f"\nwrote {names} to {args.out_dir} in {meta['wall_seconds']:.0f}s",
          file=sys.stderr)
    return 1 if failures or memory_error else 0


if __name__ == "__main__":
    sys.exit(main())
