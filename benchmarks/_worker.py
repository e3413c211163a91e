"""Run ONE benchmark measurement in a fresh process and print it as JSON.

Usage (normally called by ``run.py``)::

    python -m benchmarks._worker '{"workload": "clf-small", "dtype": "float32",
                                   "peer": "sklearn", "threads": 1}'

The BLAS/OpenMP thread count is fixed through environment variables *before*
NumPy is imported and again with ``threadpoolctl`` once it is; with
``"threads": "default"`` nothing is limited and every library uses its own
default thread count (what users get).  The result is
printed on one stdout line starting with ``BENCH_RESULT `` (anything the
libraries print is ignored by the parent).  ``{"peer": "env"}`` reports library
versions and the effective thread-pool configuration instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

MARKER = "BENCH_RESULT "
DEFAULT_THREADS = "default"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS")


def run_script_worker(script, spec, marker, cwd, timeout=None) -> dict:
    """Run ``script --worker <spec as JSON>`` in a fresh process; its record.

    The worker prints its record as JSON on one stdout line starting with
    ``marker`` (anything else it prints is ignored). On a timeout, or when no
    such line comes, the record is ``spec`` with an ``"error"``: the timeout,
    or the last line of the worker's stderr.
    """
    command = [sys.executable, str(script), "--worker", json.dumps(spec)]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                   cwd=cwd)
    except subprocess.TimeoutExpired:
        return {**spec, "error": f"timeout after {timeout} s"}
    for line in completed.stdout.splitlines():
        if line.startswith(marker):
            return json.loads(line[len(marker):])
    return {**spec, "error": (completed.stderr.strip().splitlines() or ["no output"])[-1]}


def parse_threads(value) -> int | None:
    """Thread limit of a spec value: an int >= 1, or ``None`` for "default".

    Parameters
    ----------
    value : int, str or None
        A positive thread count (int or numeric string), ``"default"`` or
        ``None``.

    Returns
    -------
    int or None
        The thread count, or ``None`` for the libraries' defaults (no limit).
    """
    if value is None or value == DEFAULT_THREADS:
        return None
    threads = int(value)
    if threads < 1:
        raise ValueError(f"threads must be >= 1 or {DEFAULT_THREADS!r}, got {value!r}")
    return threads


def set_thread_env(threads, environ=os.environ) -> None:
    """Pin every common BLAS/OpenMP thread-count variable to ``threads``.

    With ``threads`` equal to ``"default"`` (or ``None``) the variables are
    removed instead, so every library picks its own default.
    """
    limit = parse_threads(threads)
    for var in THREAD_VARS:
        if limit is None:
            environ.pop(var, None)
        else:
            environ[var] = str(limit)


def thread_limits(threads):
    """Context manager limiting the BLAS/OpenMP pools to ``threads``.

    A ``threadpoolctl.threadpool_limits`` block, or a no-op for ``"default"``.
    """
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    limit = parse_threads(threads)
    return nullcontext() if limit is None else threadpool_limits(limits=limit)


def describe_env(skdeep_fallback: bool) -> dict:
    """Versions and BLAS configuration as seen inside a limited worker."""
    import numpy
    import sklearn
    import threadpoolctl

    info = dict(
        python=sys.version.split()[0],
        numpy=numpy.__version__,
        sklearn=sklearn.__version__,
        threadpool_info=threadpoolctl.threadpool_info(),
    )
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        info["torch"] = None
    if skdeep_fallback:
        info["skdeep"] = "FALLBACK (sklearn classes)"
    else:
        try:
            import skdeep

            info["skdeep"] = getattr(skdeep, "__version__", "unknown")
            info["skdeep_path"] = os.path.dirname(os.path.abspath(skdeep.__file__))
        except Exception as exc:  # report, do not crash the suite
            info["skdeep"] = f"not importable: {exc!r}"
    return info


def measure(spec: dict) -> dict:
    """Build the workload's data and run the requested peer on it."""
    from benchmarks import peers
    from benchmarks.workloads import WORKLOADS, cached_data, quick_variant

    wl = WORKLOADS[spec["workload"]]
    quick = bool(spec.get("quick"))
    if quick:
        wl = quick_variant(wl)
    data = cached_data(spec.get("cache_dir"), wl, spec["dtype"], quick)
    peer = spec["peer"]
    warmup = spec.get("warmup", True)
    if peer in ("skdeep", "sklearn"):
        return peers.run_estimator(wl, data, peer,
                                   spec.get("skdeep_fallback", False), warmup)
    if peer == "torch":
        return peers.run_torch(wl, data, parse_threads(spec["threads"]), warmup)
    if peer == "gemm_floor":
        return peers.run_gemm_floor(wl, data, warmup)
    raise ValueError(f"unknown peer {peer!r}")


def main(argv=None) -> int:
    """Entry point: parse the JSON spec, limit threads, measure, print."""
    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(argv[0])
    threads = spec.get("threads", 1)
    set_thread_env(threads)

    with thread_limits(threads):
        if spec.get("peer") == "env":
            result = describe_env(spec.get("skdeep_fallback", False))
        else:
            result = measure(spec)
    sys.stdout.write(MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
