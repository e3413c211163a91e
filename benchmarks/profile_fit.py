#!/usr/bin/env python
"""Profile one workload's fit under cProfile to see where non-GEMM time goes.

For ``predict-latency`` the model is fitted first and only the 2,000 one-row
``predict_proba`` calls are profiled.

Examples (from the repository root)::

    python benchmarks/profile_fit.py                          # clf-small, float32, skdeep
    python benchmarks/profile_fit.py --workload clf-tiny-batch --dtype float64
    python benchmarks/profile_fit.py --impl sklearn --save /tmp/sk.prof

Prints the top functions by cumulative and by own ("total") time, each with
its share of the profiled fit, and the GEMM floor of the same workload for
reference.  Matrix products written with ``@`` are C slot calls that cProfile
does not list separately: their time is part of the calling function's own
time (explicit ``np.dot`` / ``np.matmul`` calls are listed as built-ins).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._worker import set_thread_env  # noqa: E402  (no NumPy import)

WORKLOADS = ("clf-small", "clf-wide", "reg-deep", "clf-tiny-batch",
             "lbfgs-small", "predict-latency")


def parse_args(argv=None):
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workload", choices=WORKLOADS, default="clf-small")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float32")
    p.add_argument("--impl", choices=("skdeep", "sklearn"), default="skdeep")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    p.add_argument("--top", type=int, default=25, help="rows per table (default 25)")
    p.add_argument("--save", type=Path, help="also dump the raw profile here")
    p.add_argument("--impl-skdeep-fallback", action="store_true",
                   help="profile sklearn's class under the skdeep name")
    return p.parse_args(argv)


def _label(key) -> str:
    """Readable ``file:line(function)`` with the path shortened."""
    filename, line, func = key
    if filename == "~":
        return func
    for marker in ("site-packages/", str(REPO) + "/"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
    return f"{filename}:{line}({func})"


def print_top(stats, sort_index: int, title: str, total: float, top: int) -> None:
    """Print the ``top`` functions sorted by own time (2) or cumulative (3)."""
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][sort_index], reverse=True)
    print(f"\n== top {top} by {title} (profiled total {total:.3f} s) ==")
    print(f"{'ncalls':>9} {'tottime':>8} {'tot%':>6} {'cumtime':>8} {'cum%':>6}  function")
    for key, (_cc, nc, tt, ct, _callers) in rows[:top]:
        print(f"{nc:>9} {tt:8.3f} {100 * tt / total:5.1f}% {ct:8.3f} "
              f"{100 * ct / total:5.1f}%  {_label(key)}")


def profile_fit(args):
    """Fit once under cProfile; return ``(stats, fit seconds, estimator)``."""
    import cProfile
    import pstats
    import time
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from benchmarks.peers import estimator_class
    from benchmarks.workloads import WORKLOADS as WL, estimator_params, load_data

    wl = WL[args.workload]
    data = load_data(wl, args.dtype)
    cls = estimator_class(wl, args.impl, args.impl_skdeep_fallback)
    est = cls(**estimator_params(wl))
    profiler = cProfile.Profile()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if wl.mode == "latency":  # profile the one-row calls, not the fit
            est.fit(data[0], data[2])
            row = data[1][:1]
            est.predict_proba(row)
            t0 = time.perf_counter()
            profiler.enable()
            for _ in range(wl.latency_calls):
                est.predict_proba(row)
        else:
            t0 = time.perf_counter()
            profiler.enable()
            est.fit(data[0], data[2])
        profiler.disable()
        seconds = time.perf_counter() - t0
    if args.save:
        profiler.dump_stats(args.save)
    return pstats.Stats(profiler), seconds, est, wl, data


def main(argv=None) -> int:
    """Profile, print both tables and the GEMM-floor reference."""
    args = parse_args(argv)
    set_thread_env(args.threads)
    from threadpoolctl import threadpool_limits

    from benchmarks.peers import run_gemm_floor

    with threadpool_limits(limits=args.threads):
        stats, seconds, est, wl, data = profile_fit(args)
        floor = run_gemm_floor(wl, data)
    # The root's cumulative time can slightly exceed the sum of own times.
    total = max([stats.total_tt, 1e-12] + [v[3] for v in stats.stats.values()])
    what = (f"{wl.latency_calls} one-row predict_proba calls"
            if wl.mode == "latency" else "fit")
    print(f"{args.impl} {wl.name} {args.dtype}: {what} took {seconds:.3f} s "
          f"wall ({total:.3f} s profiled, {est.n_iter_} epochs/iterations), "
          f"{args.threads} thread(s)")
    if wl.mode == "latency":
        print(f"GEMM floor: {floor['us_per_call']:.1f} us per one-row call")
    else:
        per_eval = "evaluation" if wl.solver == "lbfgs" else "epoch"
        print(f"GEMM floor: {floor['sec_per_epoch']:.4f} s per {per_eval} "
              f"(x {est.n_iter_} = {floor['sec_per_epoch'] * est.n_iter_:.3f} s); "
              "profiling overhead inflates Python-heavy code")
    print_top(stats, 3, "cumulative time", total, args.top)
    print_top(stats, 2, "own (total) time", total, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
