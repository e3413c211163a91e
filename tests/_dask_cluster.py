"""The two-worker ``LocalCluster`` the Dask tests run on (needs distributed)."""

import contextlib
import logging
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
