"""Peak resident-set-size measurement for one code region.

Free heap memory is first handed back to the OS (``malloc_trim``) so that
memory freed earlier cannot hide the block's allocations.  On Linux the
kernel's high-water mark (``VmHWM``) can be reset by writing
``5`` to ``/proc/self/clear_refs``; we reset it right before the measured
region, so the reported peak is exact and costs nothing while running.  Where
that is not available we fall back to sampling RSS with psutil in a thread.
"""

from __future__ import annotations

import gc
import re
import threading

_STATUS = "/proc/self/status"


def _status_kib(field: str) -> int | None:
    """Return a ``/proc/self/status`` field in KiB, or ``None``."""
    try:
        with open(_STATUS) as fh:
            match = re.search(rf"^{field}:\s+(\d+) kB", fh.read(), re.M)
    except OSError:
        return None
    return int(match.group(1)) if match else None


def _reset_hwm() -> bool:
    """Reset the kernel's peak-RSS counter; return whether it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return _status_kib("VmHWM") is not None


def _trim_heap() -> None:
    """Return free heap pages to the OS (glibc ``malloc_trim``), if possible.

    Without this, memory freed before the measured block (data loading, the
    warm-up fit) stays resident, is silently reused by the block and is
    missing from the reported peak.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class PeakRSS:
    """Context manager measuring ``peak RSS during the block - RSS before``.

    After the block, ``peak_mb`` holds the increase in MiB (never negative)
    and ``method`` says how it was measured (``"VmHWM"`` or ``"psutil"``).
    """

    def __init__(self, interval: float = 0.002):
        self.interval = interval
        self.peak_mb = float("nan")
        self.method = None
        self._stop = threading.Event()
        self._thread = None
        self._sampled_peak = 0

    def __enter__(self):
        gc.collect()
        _trim_heap()
        self._before = self._rss_bytes()
        if _reset_hwm():
            self.method = "VmHWM"
        else:
            self.method = "psutil"
            self._sampled_peak = self._before
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self.method == "VmHWM":
            peak = _status_kib("VmHWM") * 1024
        else:
            self._stop.set()
            self._thread.join()
            peak = max(self._sampled_peak, self._rss_bytes())
        self.peak_mb = max(peak - self._before, 0) / 2**20
        return False

    @staticmethod
    def _rss_bytes() -> int:
        kib = _status_kib("VmRSS")
        if kib is not None:
            return kib * 1024
        import psutil

        return psutil.Process().memory_info().rss

    def _sample(self):
        import psutil

        proc = psutil.Process()
        while not self._stop.wait(self.interval):
            self._sampled_peak = max(self._sampled_peak, proc.memory_info().rss)
