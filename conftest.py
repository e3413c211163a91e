"""Test-suite options: slow tests run only with --runslow; one BLAS thread.

pytest-xdist runs one worker per core; letting each worker's BLAS start a
thread per core as well oversubscribes the machine, which makes small fits
up to 20 times slower. One BLAS thread per worker keeps the suite fast.
"""

import pytest
from threadpoolctl import threadpool_limits

_BLAS_LIMIT = threadpool_limits(limits=1)


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run slow tests")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip_slow = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


try:  # skdeep.dask (and its doctests) needs Dask and distributed
    import dask.array  # noqa: F401
    import distributed  # noqa: F401
except ImportError:
    collect_ignore = ["skdeep/dask"]
