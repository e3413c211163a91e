"""Soak test: a long stream of partial_fit calls keeps memory flat.

Run with ``python -m pytest tests/test_soak.py --runslow -s`` (``-s`` shows
the memory and time report). Skipped by default and in CI.
"""

import os
import resource
import sys
import time
import warnings

import numpy as np
import pytest

from skdeep import MLPClassifier, MLPRegressor

N_CHUNKS = 1_000
CHUNK_ROWS = 1_000
N_FEATURES = 20
WARMUP_CHUNKS = 10
MAX_GROWTH_MB = 200


def _peak_rss_mb():
    """Peak resident set size of this process so far (ru_maxrss)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _current_rss_mb():
    """Current resident set size (Linux only; NaN elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except OSError:
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def _chunk(i, task, coef):
    """Chunk ``i`` of the stream, generated on demand from its own seed."""
    rng = np.random.default_rng(1_000_003 + i)
    X = rng.standard_normal((CHUNK_ROWS, N_FEATURES))
    signal = X @ coef
    if task == "classification":
        y = np.digitize(signal[:, 0], [-0.5, 0.5])  # three classes
    else:
        y = signal + 0.1 * rng.standard_normal(signal.shape)
    return X, y


@pytest.mark.slow
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_partial_fit_over_a_million_rows_keeps_memory_bounded(task):
    coef = np.random.default_rng(0).standard_normal((N_FEATURES, 2)) / np.sqrt(N_FEATURES)
    if task == "classification":
        est = MLPClassifier(hidden_layer_sizes=(64, 32), random_state=0)
        first_kwargs = {"classes": np.array([0, 1, 2])}
    else:
        est = MLPRegressor(hidden_layer_sizes=(64, 32), random_state=0)
        first_kwargs = {}
    X_test, y_test = _chunk(-1, task, coef)

    rss_start = _peak_rss_mb()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for i in range(N_CHUNKS):
            X, y = _chunk(i, task, coef)
            est.partial_fit(X, y, **(first_kwargs if i == 0 else {}))
            if i + 1 == WARMUP_CHUNKS:
                rss_warm = _peak_rss_mb()
                current_warm = _current_rss_mb()
                score_warm = est.score(X_test, y_test)
    elapsed = time.perf_counter() - start
    rss_end = _peak_rss_mb()
    current_end = _current_rss_mb()
    score_end = est.score(X_test, y_test)

    print(
        f"\n[soak {task}] {N_CHUNKS} x {CHUNK_ROWS} rows in {elapsed:.1f} s "
        f"({N_CHUNKS * CHUNK_ROWS / elapsed:,.0f} rows/s); "
        f"peak RSS (ru_maxrss): start {rss_start:.1f} MB, after {WARMUP_CHUNKS} chunks "
        f"{rss_warm:.1f} MB, end {rss_end:.1f} MB (growth after warm-up "
        f"{rss_end - rss_warm:.1f} MB); current RSS {current_warm:.1f} -> "
        f"{current_end:.1f} MB; score {score_warm:.3f} -> {score_end:.3f}"
    )

    assert rss_end - rss_warm < MAX_GROWTH_MB
    assert est.t_ == N_CHUNKS * CHUNK_ROWS
    assert len(est.loss_curve_) == N_CHUNKS
    assert np.isfinite(est.loss_curve_).all()
    assert all(np.isfinite(w).all() for w in est.coefs_ + est.intercepts_)
    assert score_end >= score_warm - 0.05  # still learning, not degrading
