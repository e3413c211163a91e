"""A small raw table shared by the tests of threaded fits."""

import numpy as np
import pandas as pd


def small_table(n_rows=600, seed=0):
    """Numeric columns (one with NaN), a string column with None, and a binary target."""
    rng = np.random.RandomState(seed)
    frame = pd.DataFrame({
        "a": rng.normal(size=n_rows), "b": rng.exponential(size=n_rows),
        "c": rng.choice(["x", "y", "z", None], n_rows), "d": rng.randint(0, 30, n_rows),
    })
    frame.loc[rng.rand(n_rows) < 0.1, "a"] = np.nan
    target = (frame["a"].fillna(0) + (frame["c"] == "x") + 0.1 * frame["d"] > 1.5).astype(int)
    return frame, target.to_numpy()
