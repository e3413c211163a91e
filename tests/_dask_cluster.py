"""The two-worker ``LocalCluster`` the Dask tests run on (needs distributed)."""

import contextlib
import logging
import os
import time
import warnings

import distributed


@contextlib.contextmanager
def two_worker_client():
    """A client of two single-threaded worker processes, start-up noise silenced."""
    with warnings.catch_warnings():
        # Cluster start-up and shutdown chatter (ports, closed comms).
        warnings.simplefilter("ignore", ResourceWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
            # The workers' own reports of the errors the tests provoke on purpose.
            silence_logs=logging.CRITICAL,
        ) as cluster, distributed.Client(cluster) as client:
            yield client


@contextlib.contextmanager
def workers_restored(client, n_workers=2, timeout=60):
    """For a block that kills workers: the cluster has its ``n_workers`` workers after it,
    all answering, whether the block failed or not, so that later tests see the same
    cluster (the scheduler may list a killed worker for a moment)."""
    try:
        yield
    finally:
        deadline = time.monotonic() + timeout
        while True:
            client.wait_for_workers(n_workers, timeout=timeout)
            try:
                if len(client.run(os.getpid)) == n_workers:
                    break
            except OSError:  # a listed worker is gone
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"The cluster did not get its {n_workers} workers back in {timeout} s.")
            time.sleep(0.2)
