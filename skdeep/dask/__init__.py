"""Train skdeep's estimators across a Dask cluster.

:class:`MLPClassifier` and :class:`MLPRegressor` take the parameters of
:class:`skdeep.MLPClassifier` and :class:`skdeep.MLPRegressor` and fit on
Dask arrays or DataFrames whose blocks stay on the workers of the current
``distributed`` client: each worker computes on the blocks it holds, and
only parameters, gradients and a few numbers travel. L-BFGS sums the exact
full-data loss and gradient over the workers; Adam and SGD train by
periodic parameter averaging (one round per epoch). A fitted model predicts
on NumPy arrays, and block by block (lazily) on Dask arrays; ``to_local()``
turns it into a plain skdeep estimator.

:class:`TabularMLPClassifier` and :class:`TabularMLPRegressor` do the same
for :class:`skdeep.TabularMLPClassifier` / :class:`skdeep.TabularMLPRegressor`
on Dask DataFrames of raw columns (numbers, booleans, dates, categories,
strings, NaN): the input encoding is learned from summaries of the
partitions, and the ensemble trains by synchronous steps whose gradients
are summed over the workers (or by rounds averaged once per epoch).

Needs ``dask[array,dataframe]`` and ``distributed``: ``pip install "skdeep[dask]"``.
"""

try:
    import dask.array  # noqa: F401
    import dask.dataframe  # noqa: F401
    import distributed  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised without dask installed
    raise ImportError(
        'skdeep.dask needs Dask and distributed, which are not installed: '
        'pip install "skdeep[dask]"'
    ) from exc

from ._estimators import MLPClassifier, MLPRegressor
from ._tabular import TabularMLPClassifier, TabularMLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "TabularMLPClassifier", "TabularMLPRegressor"]
