"""The Dask benchmarks' cluster and what they measure of its processes: the client's
peak memory growth, each worker's peak memory and CPU time (``dask_training.py``,
``dask_tabular.py``)."""

import resource
import threading
import time

import psutil


def local_cluster(n_workers):
    """A ``LocalCluster`` of single-threaded worker processes and its client.

    skdeep.dask is imported on the workers before any clock starts.
    """
    import distributed

    cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                       processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    client.run(lambda: __import__("skdeep.dask"))
    return cluster, client


class RssSampler:
    """Peak RSS of this process above its level at the start, sampled in a thread.

    Use as a context manager; ``growth_mb`` is set on exit.
    """

    def __init__(self, interval=0.02):
        self.interval, self.process = interval, psutil.Process()

    def __enter__(self):
        self.baseline = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(self.interval)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)
        self.growth_mb = (self.peak - self.baseline) / 2**20


def worker_peaks_mb(client):
    """Each worker's peak RSS over its life, in MiB, in address order
    (``ru_maxrss`` is in KiB on Linux)."""
    peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return [peaks[address] / 1024 for address in sorted(peaks)]


def worker_cpu_seconds(client):
    """CPU seconds (user + system) each worker process has used, in address order."""
    used = client.run(lambda: sum(psutil.Process().cpu_times()[:2]))
    return [used[address] for address in sorted(used)]
